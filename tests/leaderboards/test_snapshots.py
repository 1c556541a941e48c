"""A rater votes and the leaderboard everybody is looking at catches up: the snapshot is
refreshed (once per debounce window) and open pages are told over the websocket."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections

from arena.asgi import application
from arena.models import RatingSnapshot
from reports.services.snapshots import snapshots_mark_stale
from tests.factories import build_arena, imported_verdicts

pytestmark = pytest.mark.django_db


def test_a_new_vote_refreshes_the_leaderboard_snapshot(
    client, voted_arena, django_capture_on_commit_callbacks
):
    before = client.get("/api/leaderboard/", {"source": "human"}).json()
    everything = client.get("/api/leaderboard/", {"source": "all"}).json()
    judge_only = client.get("/api/leaderboard/", {"source": "import:paper-gpt4"}).json()
    prompt = voted_arena.prompts[0]

    with django_capture_on_commit_callbacks(execute=True):
        voted_arena.vote(voted_arena.raters[0], prompt, "gamma", "alpha", turn=2)

    after = client.get("/api/leaderboard/", {"source": "human"}).json()
    assert after["battle_total"] == before["battle_total"] + 1
    gamma = next(r for r in after["rows"] if r["model"] == "gamma")
    gamma_before = next(r for r in before["rows"] if r["model"] == "gamma")
    assert gamma["wins"] == gamma_before["wins"] + 1
    assert (
        client.get("/api/leaderboard/", {"source": "all"}).json()["battle_total"]
        == everything["battle_total"] + 1
    )
    # A snapshot that does not read human votes is left alone.
    assert (
        client.get("/api/leaderboard/", {"source": "import:paper-gpt4"}).json()["computed_at"]
        == judge_only["computed_at"]
    )


def test_reports_of_the_source_are_refreshed_too(
    staff_client, voted_arena, django_capture_on_commit_callbacks
):
    client = staff_client
    bias = client.get("/api/bias/", {"source": "human"}).json()
    agreement = client.get("/api/agreement/", {"a": "import:paper-gpt4", "b": "human"}).json()

    with django_capture_on_commit_callbacks(execute=True):
        voted_arena.vote(voted_arena.raters[1], voted_arena.prompts[1], "beta", "gamma", turn=2)

    assert client.get("/api/bias/", {"source": "human"}).json()["battle_total"] == bias["battle_total"] + 1
    assert (
        client.get("/api/agreement/", {"a": "import:paper-gpt4", "b": "human"}).json()["battles_b"]
        == agreement["battles_b"] + 1
    )


def test_votes_on_another_prompt_set_leave_a_filtered_snapshot_alone(
    client, voted_arena, django_capture_on_commit_callbacks
):
    other = build_arena(set_slug="other-set")
    filtered = client.get("/api/leaderboard/", {"source": "human", "prompt_set": "demo-set"}).json()

    with django_capture_on_commit_callbacks(execute=True):
        other.vote(other.raters[0], other.prompts[0], "alpha", "beta")

    again = client.get("/api/leaderboard/", {"source": "human", "prompt_set": "demo-set"}).json()
    assert again["computed_at"] == filtered["computed_at"]


def test_a_burst_of_votes_enqueues_one_refresh_per_debounce_window(
    client, voted_arena, settings, monkeypatch, django_capture_on_commit_callbacks
):
    client.get("/api/leaderboard/", {"source": "human"})
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 30
    sent = []
    monkeypatch.setattr(
        "reports.tasks.snapshot_refresh.apply_async",
        lambda args, countdown=0, **kw: sent.append((args, countdown)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        for prompt in voted_arena.prompts[:4]:
            voted_arena.vote(voted_arena.raters[2], prompt, "beta", "alpha", turn=2)

    key = RatingSnapshot.objects.get().key
    assert sent == [((key,), 30)]  # the refresh runs once, after the window, seeing all four votes

    cache.delete(f"arena:snapshot-stale:{key}")  # the window has passed
    with django_capture_on_commit_callbacks(execute=True):
        assert snapshots_mark_stale(source="human") == [key]
    assert len(sent) == 2


def test_new_imported_verdicts_mark_snapshots_stale_through_the_service(
    client, voted_arena, django_capture_on_commit_callbacks
):
    before = client.get("/api/leaderboard/", {"source": "all"}).json()
    imported_verdicts(voted_arena, "second-judge")

    with django_capture_on_commit_callbacks(execute=True):
        scheduled = snapshots_mark_stale(source="import:second-judge", prompt_set="demo-set")

    assert scheduled == [before["key"]]
    assert (
        client.get("/api/leaderboard/", {"source": "all"}).json()["battle_total"]
        == before["battle_total"] + 18
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_open_page_is_told_when_its_snapshot_changes(voted_arena):
    communicator = WebsocketCommunicator(
        application, "/ws/leaderboard/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected

    from django.test import Client

    client = Client()
    first = await sync_to_async(lambda: client.get("/api/leaderboard/", {"source": "human"}).json())()
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"event": "snapshot.updated", "key": first["key"]}

    # A vote (outside a test transaction: on_commit fires) refreshes the snapshot and says so.
    await sync_to_async(voted_arena.vote)(
        voted_arena.raters[0], voted_arena.prompts[2], "gamma", "beta", turn=2
    )
    message = await communicator.receive_json_from(timeout=10)
    assert message["key"] == first["key"]
    refreshed = await sync_to_async(lambda: client.get("/api/leaderboard/", {"source": "human"}).json())()
    assert refreshed["battle_total"] == first["battle_total"] + 1
    await communicator.disconnect()
    await sync_to_async(connections.close_all)()


@pytest.mark.asyncio
async def test_the_consumer_forwards_group_messages(settings):
    communicator = WebsocketCommunicator(
        application, "/ws/leaderboard/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    await get_channel_layer().group_send(
        "leaderboard", {"type": "snapshot.updated", "key": "leaderboard?x=1"}
    )
    assert await communicator.receive_json_from(timeout=2) == {
        "event": "snapshot.updated",
        "key": "leaderboard?x=1",
    }
    await communicator.disconnect()
