"""Personas for the rating tests: a rater, a second rater, staff and (implicitly) a stranger."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.voting.browser import chromium, page, sized_page  # noqa: F401 - the browser fixtures

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from arena.selectors.queue import _displays
    from arena.services.votes import _local_vote_limits

    cache.clear()
    _displays.clear()
    _local_vote_limits.clear()
    yield
    cache.clear()
    _displays.clear()
    _local_vote_limits.clear()


@pytest.fixture(autouse=True)
def _no_gold_by_default(settings):
    # Gold mixing is random; tests that want it turn it on.
    settings.ARENA_GOLD_RATE = 0.0


@pytest.fixture
def rater(django_user_model):
    return django_user_model.objects.create_user("rita", password=PASSWORD)


@pytest.fixture
def other_rater(django_user_model):
    return django_user_model.objects.create_user("otto", password=PASSWORD)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("stella", password=PASSWORD, is_staff=True)


@pytest.fixture
def rater_client(client, rater):
    client.force_login(rater)
    return client
