"""Shared fixtures: the database guard, bundled data and small factories.

The suite runs on PostgreSQL (``make test`` points DATABASE_URL at the local server); SQLite is
only the zero-setup default for a first demo run and is refused here so a green run means
something.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.services import broker_url, redis_url  # noqa: F401 - fixtures for every test

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("django"):
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not os.environ.get(
        "ARENA_ALLOW_SQLITE_TESTS"
    ):
        pytest.exit(
            "The tests run against PostgreSQL: use `make test`, or set DATABASE_URL=postgres://… "
            "(ARENA_ALLOW_SQLITE_TESTS=1 to force SQLite).",
            returncode=2,
        )


class FewRoundsPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's own PBKDF2 hashes, with one round instead of a million: every user a test makes
    with a password, and every log-in, cost 0.6 s of CPU otherwise. The stored hashes keep
    Django's format, so the daphne and worker processes the tests start (on the real settings)
    verify them too."""

    iterations = 1


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing():
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["tests.conftest.FewRoundsPBKDF2PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _snapshot_refresh_inline(settings):
    """Without a broker, snapshot refreshes run on a background thread with its own database
    connection, which cannot see a test's uncommitted rows: tests refresh inline, right after
    the commit, unless they test the background thread itself."""
    settings.ARENA_SNAPSHOT_REFRESH_INLINE = True


@contextmanager
def module_data(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """For rows too slow to write for every test (the demo, the shipped MT-Bench verdicts): a
    module-scoped fixture writes them once inside this, a transaction rolled back when the module
    is done. Each test (``db``) runs in a savepoint inside it, as with Django's
    TestCase.setUpTestData, so what a test writes is undone before the next one."""
    from django.db import transaction
    from django.test import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(ARENA_SNAPSHOT_REFRESH_INLINE=True),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


@pytest.fixture
def staff_client(client, db):
    """Staff may have any valid combination of filters computed; visitors only the canonical set."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("stella-staff", is_staff=True))
    return client


@pytest.fixture
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip("../shared/datasets is not beside the project")
    return SHARED_DATASETS


@pytest.fixture
def data_dir() -> Path:
    return ROOT / "arena" / "data"


@pytest.fixture
def bundled_prompt_sets(db):
    from arena.services.prompt_sets import prompt_sets_load_bundled

    return {r.slug: r for r in prompt_sets_load_bundled()}
