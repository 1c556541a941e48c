"""The demo's path on its own embedded defaults (SQLite, no broker, no Redis), in subprocesses
that see none of the tests' PostgreSQL: migrate, load_demo, a person's vote, the leaderboard.
And the demo's SQLite database under several raters at once: votes are transactions that read
and then write, and the snapshot refresh writes from a thread of its own. None of them may fail
with "database is locked"; they wait their turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WRITERS = """
import threading
import django
django.setup()
from django.db import connection, transaction
from arena.models import PromptSet

errors = []

def writer(n):
    try:
        for i in range(40):
            with transaction.atomic():  # read, then write: what a lease or a vote does
                PromptSet.objects.filter(slug__startswith="w").count()
                PromptSet.objects.create(slug=f"w{n}-{i}", name="writer")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(PromptSet.objects.filter(slug__startswith="w").count(), errors[:3])
"""


# A person at the demo: log in with the published demo login, open /rate/, vote for the left
# answer, then open the leaderboard of people's votes.
VOTE = """
import re
import django
django.setup()
from django.test import Client
from arena.models import Vote

client = Client()
assert client.login(username="demo", password="arena-demo")
page = client.get("/rate/")
assert page.status_code == 200, page.status_code
vote_url = re.search(r"/rate/assignments/[0-9]+/vote/", page.content.decode()).group(0)
voted = client.post(vote_url, {"choice": "A"})
assert voted.status_code in (200, 302), voted.status_code
vote = Vote.objects.select_related("comparison__answer_a__contender", "comparison__answer_b__contender").get()
leaderboard = client.get("/leaderboard/?source=human&rater_quality=all")
print(vote.comparison.answer_a.contender.name, vote.comparison.answer_b.contender.name, leaderboard.status_code)
"""


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory) -> dict[str, str]:
    """The demo's settings (no DATABASE_URL, DJANGO_DEBUG, REDIS_URL or broker: SQLite in
    ARENA_VAR_DIR, the in-memory channel layer, Celery inline) on a freshly migrated database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_DEBUG", "REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        ARENA_VAR_DIR=str(tmp_path_factory.mktemp("demo-var")),
        DJANGO_SETTINGS_MODULE="arena.settings",
        PYTHONPATH=str(ROOT),
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_the_demo_path_on_sqlite_migrate_load_a_vote_and_its_leaderboard(demo_env):
    loaded = manage(demo_env, "load_demo", "--quiet")
    assert "Demo login: username 'demo'" in loaded
    assert (Path(demo_env["ARENA_VAR_DIR"]) / "arena.sqlite3").is_file()

    result = subprocess.run(
        [sys.executable, "-c", VOTE], cwd=ROOT, env=demo_env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    model_a, model_b, page_status = result.stdout.split()
    assert page_status == "200"

    rows = json.loads(
        manage(
            demo_env,
            "leaderboard",
            "--source",
            "human",
            "--rater-quality",
            "all",
            "--bootstrap",
            "0",
            "--format",
            "json",
        )
    )
    assert {row["model"] for row in rows} == {model_a, model_b}
    assert sorted((row["battles"], row["wins"], row["losses"]) for row in rows) == [(1, 0, 1), (1, 1, 0)]


def test_concurrent_read_then_write_transactions_wait_instead_of_failing(demo_env):
    result = subprocess.run(
        [sys.executable, "-c", WRITERS], cwd=ROOT, env=demo_env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split(maxsplit=1) == ["240", "[]\n"]
