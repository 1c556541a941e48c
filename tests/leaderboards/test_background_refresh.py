"""A vote never waits for a leaderboard: without a broker (the demo), the refresh of the snapshots
it makes stale runs on a background thread after the response, debounced and coalesced."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from arena.models import RatingSnapshot
from reports.services import snapshots
from tests.factories import build_arena, human_votes

pytestmark = pytest.mark.django_db(transaction=True)  # the background thread reads committed rows only


@pytest.fixture
def broker_less(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ARENA_SNAPSHOT_REFRESH_INLINE = False  # as deployed without a broker: the background thread
    settings.ARENA_GOLD_RATE = 0
    yield settings
    assert snapshots.background_refreshes.wait_idle(30)
    connections.close_all()


@pytest.mark.timing
def test_a_vote_returns_before_a_slow_refresh_finishes_and_the_snapshot_catches_up(broker_less, monkeypatch):
    arena = build_arena()
    human_votes(arena)
    reader = Client()
    before = reader.get("/api/leaderboard/", {"source": "human"}).json()  # a canonical view: stored now
    assert before["battle_total"] == 54

    release, started = threading.Event(), threading.Event()
    compute = snapshots._compute

    def slow_compute(params):
        started.set()
        assert release.wait(30), "the test never released the computation"
        return compute(params)

    monkeypatch.setattr(snapshots, "_compute", slow_compute)
    rater = get_user_model().objects.create_user("late-rater", password="x")
    client = Client()
    client.force_login(rater)
    panel = client.get(f"/rate/{arena.prompt_set.slug}/").content.decode()
    assignment = re.search(r"/rate/assignments/(\d+)/vote/", panel).group(1)

    began = time.monotonic()
    response = client.post(f"/rate/assignments/{assignment}/vote/", {"choice": "A"})
    elapsed = time.monotonic() - began

    assert response.status_code == 200 and "Your vote is in" in response.content.decode()
    assert started.wait(10), "the refresh never started"
    assert not release.is_set()  # the vote's response came back while the computation was blocked
    assert (
        reader.get("/api/leaderboard/", {"source": "human"}).json()["battle_total"] == 54
    )  # old numbers meanwhile
    assert elapsed < 10
    release.set()
    assert snapshots.background_refreshes.wait_idle(30)
    assert reader.get("/api/leaderboard/", {"source": "human"}).json()["battle_total"] == 55


def test_a_burst_of_votes_is_one_refresh_after_the_window(broker_less, monkeypatch):
    broker_less.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0.5
    arena = build_arena()
    human_votes(arena)
    Client().get("/api/leaderboard/", {"source": "human"})
    key = RatingSnapshot.objects.get().key
    refreshed = []
    compute = snapshots._compute
    monkeypatch.setattr(snapshots, "_compute", lambda params: refreshed.append(params.key) or compute(params))

    for prompt in arena.prompts[:4]:
        arena.vote(arena.raters[0], prompt, "gamma", "alpha", turn=2)
    assert refreshed == []  # nothing ran in the writing thread
    assert snapshots.background_refreshes.pending() == [key]

    assert snapshots.background_refreshes.wait_idle(30)
    assert refreshed == [key]
    assert RatingSnapshot.objects.get().battle_count == 54 + 4
