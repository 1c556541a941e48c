"""Anonymous requests never create work: a visitor reads stored snapshots or the canonical set;
the number of snapshots is bounded (least recently read evicted) and unread ones expire."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arena.models import RatingSnapshot
from reports.services.snapshots import snapshot_refresh, snapshots_evict, snapshots_mark_stale

pytestmark = pytest.mark.django_db


def test_twenty_anonymous_urls_create_no_snapshot_and_a_vote_refreshes_only_what_is_read(
    client, voted_arena, monkeypatch, django_capture_on_commit_callbacks
):
    for seed in range(20):
        response = client.get("/api/leaderboard/", {"source": "all", "bootstrap": 5000, "seed": seed})
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "snapshot_not_available"
        assert body["canonical"] == "/api/leaderboard/?source=all&method=bt"
    assert not RatingSnapshot.objects.exists()

    assert client.get(response.json()["canonical"]).status_code == 200  # the canonical one: computed
    refreshed = []
    monkeypatch.setattr(
        "reports.tasks.snapshot_refresh.apply_async",
        lambda args, countdown=0, **kw: refreshed.append(args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        voted_arena.vote(voted_arena.raters[0], voted_arena.prompts[0], "gamma", "alpha", turn=2)
    assert refreshed == [RatingSnapshot.objects.get().key]


@pytest.mark.parametrize(
    "query",
    [
        {"source": "human"},
        {"source": "human", "method": "elo"},
        {"source": "import:paper-gpt4", "prompt_set": "demo-set"},
        {"source": "all", "prompt_set": "demo-set", "method": "elo"},
    ],
)
def test_the_canonical_set_is_open_to_everyone(client, voted_arena, query):
    assert client.get("/api/leaderboard/", query).status_code == 200
    assert client.get("/leaderboard/", query).status_code == 200
    assert RatingSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/leaderboard/", {"source": "human", "category": "coding"}),
        ("/api/leaderboard/", {"source": "human", "turn": "1"}),
        ("/api/leaderboard/", {"source": "human", "style_control": "1"}),
        ("/api/leaderboard/", {"source": "human", "k": "8"}),
        ("/api/agreement/", {"a": "import:paper-gpt4", "b": "human"}),  # the page's default is human first
    ],
)
def test_other_combinations_need_staff(staff_client, voted_arena, url, query):
    client = Client()
    assert client.get(url, query).status_code == 403
    assert not RatingSnapshot.objects.exists()
    assert staff_client.get(url, query).status_code == 200
    assert RatingSnapshot.objects.count() == 1
    assert client.get(url, query).status_code == 200  # stored now: anyone may read it


def test_the_page_explains_and_links_to_the_default_view(client, voted_arena):
    response = client.get(
        "/leaderboard/", {"source": "human", "prompt_set": "demo-set", "category": "coding"}
    )

    assert response.status_code == 403
    text = html.unescape(response.content.decode())
    assert "These numbers have not been computed yet." in text
    assert 'href="?source=human&prompt_set=demo-set&method=bt"' in text
    assert "logging in" in text
    assert "No battles match" not in text and "Export:" not in text  # no numbers, not even empty ones
    assert not RatingSnapshot.objects.exists()
    htmx = client.get("/leaderboard/", {"source": "human", "category": "coding"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and htmx.content.decode().lstrip().startswith('<section id="results"')


def test_the_least_recently_read_snapshot_is_evicted_beyond_the_bound(staff_client, voted_arena, settings):
    settings.ARENA_SNAPSHOT_MAX = 3
    for seed in range(3):
        staff_client.get("/api/leaderboard/", {"source": "human", "seed": seed})
    keys = {seed: RatingSnapshot.objects.get(key__contains=f"seed={seed}&").key for seed in range(3)}
    old = timezone.now() - timedelta(hours=1)
    RatingSnapshot.objects.filter(key=keys[0]).update(last_read_at=old)
    RatingSnapshot.objects.filter(key=keys[1]).update(last_read_at=old - timedelta(hours=1))
    RatingSnapshot.objects.filter(key=keys[2]).update(last_read_at=old)
    staff_client.get("/api/leaderboard/", {"source": "human", "seed": 2})  # read again: now the most recent

    staff_client.get("/api/leaderboard/", {"source": "human", "seed": 3})

    assert set(RatingSnapshot.objects.values_list("key", flat=True)) == {
        keys[0],
        keys[2],
        keys[2].replace("seed=2", "seed=3"),
    }


def test_unread_snapshots_expire_instead_of_being_refreshed(
    client, voted_arena, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.ARENA_SNAPSHOT_UNREAD_SECONDS = 3600
    client.get("/api/leaderboard/", {"source": "human"})
    client.get("/api/bias/", {"source": "human"})
    RatingSnapshot.objects.filter(key__startswith="bias").update(
        last_read_at=timezone.now() - timedelta(hours=2)
    )

    refreshed = []
    monkeypatch.setattr(
        "reports.tasks.snapshot_refresh.apply_async", lambda args, **kw: refreshed.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=True):
        snapshots_mark_stale(source="human")
    assert [k.split("?")[0] for k in refreshed] == ["leaderboard"]

    assert snapshots_evict() == 1
    assert list(RatingSnapshot.objects.values_list("key", flat=True)) == refreshed


def test_an_evicted_snapshot_is_not_brought_back_by_a_refresh_that_was_waiting(staff_client, voted_arena):
    staff_client.get("/api/leaderboard/", {"source": "human", "seed": 4})
    key = RatingSnapshot.objects.get().key
    RatingSnapshot.objects.all().delete()

    assert snapshot_refresh(key=key, create=False) is None
    assert not RatingSnapshot.objects.exists()
