"""An operator who mistypes an environment variable gets a message naming it, not a silent default."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "arena.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        (
            {"DATABASE_URL": "mysql://root@localhost/x"},
            "DATABASE_URL='mysql://root@localhost/x' must start with one of",
        ),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' must start with one of"),
        ({"CELERY_BROKER_URL": "rabbit://x"}, "CELERY_BROKER_URL='rabbit://x' must start with one of"),
        ({"ARENA_LEASE_SECONDS": "ten"}, "ARENA_LEASE_SECONDS='ten' is not a whole number"),
        ({"ARENA_LEASE_SECONDS": "1"}, "ARENA_LEASE_SECONDS='1' must be at least 10"),
        ({"DJANGO_DEBUG": "0"}, "SECRET_KEY must be set"),
        ({"DJANGO_DEBUG": "0", "SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS must list"),
    ],
)
def test_a_bad_value_stops_start_up_with_its_name(env, message):
    result = start_django(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_defaults_give_sqlite_and_postgres_urls_give_psycopg():
    assert start_django().stdout.strip() == "django.db.backends.sqlite3"
    empty = start_django(DATABASE_URL="")  # an empty variable is an unset one, not a traceback
    assert (empty.returncode, empty.stdout.strip()) == (0, "django.db.backends.sqlite3")
    assert start_django(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test").stdout.strip() == (
        "django.db.backends.postgresql"
    )


def test_embedded_defaults_run_celery_inline_and_channels_in_memory():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["True", "channels.layers.InMemoryChannelLayer"]
    env.update(CELERY_BROKER_URL="redis://127.0.0.1:6379/1", REDIS_URL="redis://127.0.0.1:6379/1")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["False", "channels_redis.core.RedisChannelLayer"]


def test_sessions_live_in_the_database_with_or_without_redis():
    """Redis going down (or being flushed) must not log anyone out, nor undo a logout that a cached
    copy of the session missed: sessions are stored in the database only, Redis or not."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; from django.core.cache import caches; "
        "print(s.SESSION_ENGINE, type(caches['default']).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["django.contrib.sessions.backends.db", "LocMemCache"]
    env.update(REDIS_URL="redis://127.0.0.1:6379/1")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["django.contrib.sessions.backends.db", "ArenaRedisCache"]


def test_readme_documents_every_environment_variable_the_settings_read():
    code = "import django; django.setup(); from arena.env import SETTINGS_VARIABLES; print(' '.join(sorted(SETTINGS_VARIABLES)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "arena.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    variables = out.stdout.split()
    readme = (ROOT / "README.md").read_text()
    assert len(variables) > 50
    assert [name for name in variables if f"`{name}`" not in readme and name not in readme] == []
