"""The report tests' small arena (tests/factories.py): three models, human votes, one imported
LLM judge; and settings that keep each test to itself."""

from __future__ import annotations

import pytest

from tests.factories import Arena, build_arena, human_votes, imported_verdicts


@pytest.fixture(autouse=True)
def _isolated(settings):
    """Inline tasks, no debounce, a fresh cache and in-memory channel layer per test."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0
    settings.ARENA_BOOTSTRAP_ROUNDS = 50
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "leaderboards-tests",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def arena(db) -> Arena:
    return build_arena()


@pytest.fixture
def voted_arena(arena) -> Arena:
    human_votes(arena)
    imported_verdicts(arena)
    return arena
