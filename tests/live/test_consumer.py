"""The battle socket against the tests' streaming server: two sides at once, the vote and reveal,
blindness, follow-ups, errors, limits and disconnects (real PostgreSQL, real HTTP, the real
``openai`` client)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from arena.asgi import application
from live.models import LiveBattle
from tests.live.conftest import add_contender

pytestmark = [pytest.mark.django_db(transaction=True)]


async def connect(username: str = "rita") -> tuple[WebsocketCommunicator, Any]:
    user, _ = await sync_to_async(get_user_model().objects.get_or_create)(username=username)
    comm = WebsocketCommunicator(
        application, "/ws/battle/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    comm.scope["user"] = user
    comm.scope["client"] = ("10.0.0.7", 5555)
    connected, _ = await comm.connect()
    assert connected
    return comm, user


async def until(comm: WebsocketCommunicator, kinds: set[str], timeout: float = 10) -> list[dict[str, Any]]:
    """Frames up to the first of ``kinds``, batches unpacked."""
    frames = []
    while True:
        message = json.loads(await comm.receive_from(timeout=timeout))
        for frame in message["frames"] if message["type"] == "batch" else [message]:
            frames.append(frame)
            if frame["type"] in kinds:
                return frames


def text_of(frames: list[dict[str, Any]], side: str) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta" and f["side"] == side)


@pytest.mark.asyncio
async def test_a_battle_streams_both_sides_follows_up_votes_and_reveals(pair, llm, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "Explain **tides** briefly."})
    frames = await until(comm, {"answered"})
    assert frames[0]["type"] == "turn"
    left, right = text_of(frames, "left"), text_of(frames, "right")
    assert left and right and left != right
    raw = json.dumps(frames)
    for secret in ("alpha-7b", "beta-13b", llm.base_url, "127.0.0.1"):
        assert secret not in raw  # blind: no name, endpoint
    assert any(f["type"] == "block" for f in frames)
    done = [f for f in frames if f["type"] == "side_done"]
    assert {f["side"] for f in done} == {"left", "right"} and "<h2>" in done[0]["html"]

    await comm.send_json_to({"type": "prompt", "text": "And the moon?"})
    frames = await until(comm, {"answered"})
    assert frames[-1]["turn"] == 2

    await comm.send_json_to({"type": "vote", "verdict": "left"})
    reveal = (await until(comm, {"reveal"}))[-1]
    assert {reveal["left"], reveal["right"]} == {"alpha-7b", "beta-13b"} and reveal["void"] is False
    await comm.disconnect()

    battle = await sync_to_async(LiveBattle.objects.get)()
    assert battle.status == "voted" and battle.turns == 2
    left_is = "model_a" if battle.a_shown_first else "model_b"
    assert battle.winner == left_is
    assert [t["prompt"] for t in battle.conversation] == ["Explain **tides** briefly.", "And the moon?"]
    shown_left = "a" if battle.a_shown_first else "b"
    assert battle.conversation[1][shown_left] == text_of(frames, "left")
    assert battle.output_tokens_a == 48 and battle.input_tokens_a > 0 and battle.cost_a > 0
    assert all(battle.conversation[0]["timing"][s]["first_token_ms"] > 0 for s in "ab")
    # The second turn carried the whole conversation to each side.
    log = sorted(llm.stats(log=True)["log"], key=lambda e: e["start"])
    assert len(log) == 4
    for first, second in (log[:2], log[2:]):  # each turn: both requests leave together
        assert abs(first["start"] - second["start"]) < 0.05 and first["model"] != second["model"]
    assert log[0]["key"] == log[1]["key"]  # the same first prompt...
    assert log[2]["key"] != log[3]["key"]  # ...then each side's own conversation


@pytest.mark.timing
@pytest.mark.asyncio
async def test_both_sides_stream_at_once_and_a_slow_one_does_not_hold_up_the_other(db, llm, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    await sync_to_async(add_contender)(llm, "fast")
    await sync_to_async(add_contender)(llm, "slow")
    llm.configure(stream_rate=10.0, stream_words=8)
    comm, _ = await connect()
    started = time.monotonic()
    await comm.send_json_to({"type": "prompt", "text": "Hello"})
    frames = await until(comm, {"answered"})
    elapsed = time.monotonic() - started
    assert elapsed < 1.5  # 8 chunks at 10/s each, in parallel: ~0.8 s, not 1.6 s
    sides = [f["side"] for f in frames if f["type"] == "delta"]
    assert sides[:4].count("left") >= 1 and sides[:4].count("right") >= 1  # interleaved
    await comm.disconnect()


@pytest.mark.asyncio
async def test_a_model_that_names_itself_voids_the_battle_said_after_the_vote(db, llm, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    await sync_to_async(add_contender)(llm, "plain")
    await sync_to_async(add_contender)(llm, "chatty", model="bot-names-itself")
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "Who are you?"})
    frames = await until(comm, {"answered"})
    assert not any("void" in json.dumps(f) for f in frames)  # not said before the vote
    await comm.send_json_to({"type": "vote", "verdict": "tie"})
    reveal = (await until(comm, {"reveal"}))[-1]
    assert reveal["void"] is True and "does not count" in reveal["message"]
    battle = await sync_to_async(LiveBattle.objects.get)()
    assert battle.reveals_identity and battle.winner == "tie" and not battle.counts
    await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", ["stream_error", "stream_drop", "500"])
async def test_an_error_on_one_side_ends_the_battle_for_both_with_no_vote(pair, llm, settings, fault):
    settings.ALLOWED_HOSTS = ["localhost"]
    llm.configure(model_script={"beta-13b": [fault]}, stream_rate=20.0, stream_words=60)
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "Hi"})
    frames = await until(comm, {"ended", "answered"})
    assert frames[-1]["type"] == "ended"
    assert "beta" not in frames[-1]["message"] and "500" not in frames[-1]["message"]
    await comm.send_json_to({"type": "vote", "verdict": "left"})
    assert (await until(comm, {"refused", "reveal"}))[-1]["type"] == "refused"
    battle = await sync_to_async(LiveBattle.objects.get)()
    assert battle.status == "error" and battle.winner == "" and "side" in battle.error
    # The other side's stream was closed too, not read to its end.
    deadline = time.monotonic() + 2
    while llm.stats()["in_flight"] and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert llm.stats()["in_flight"] == 0 and llm.stats()["by_status"].get("200", 0) == 0
    await comm.disconnect()


@pytest.mark.timing
@pytest.mark.asyncio
async def test_closing_the_socket_closes_both_upstream_streams_within_a_second(pair, llm, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    llm.configure(stream_rate=5.0, stream_words=200)
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "Write a long essay"})
    await until(comm, {"delta"})
    await asyncio.sleep(0.3)
    closed_at = time.time()
    await comm.disconnect()
    deadline = time.monotonic() + 2
    while llm.stats()["in_flight"] and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stats = llm.stats(log=True)
    assert stats["by_status"] == {"client_gone": 2}
    assert all(entry["end"] - closed_at < 1.0 for entry in stats["log"])
    battle = await sync_to_async(LiveBattle.objects.get)()
    assert battle.status == "abandoned" and battle.winner == ""


@pytest.mark.asyncio
async def test_limits_and_prompt_length_are_refused_with_the_reason(pair, llm, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.ARENA_LIVE_BATTLES_PER_HOUR = 1
    settings.ARENA_LIVE_MAX_PROMPT_CHARS = 20
    settings.ARENA_LIVE_MAX_TURNS = 1
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "x" * 21})
    assert "at most 20 characters" in (await until(comm, {"refused"}))[-1]["message"]
    await comm.send_json_to({"type": "prompt", "text": "first"})
    answered = (await until(comm, {"answered"}))[-1]
    assert answered["can_follow_up"] is False
    await comm.send_json_to({"type": "prompt", "text": "again"})
    assert "at most 1 turns" in (await until(comm, {"refused"}))[-1]["message"]
    await comm.send_json_to({"type": "new"})
    await until(comm, {"cleared"})
    await comm.send_json_to({"type": "prompt", "text": "second"})
    assert "live battles an hour" in (await until(comm, {"refused"}))[-1]["message"]
    await comm.disconnect()
    assert await sync_to_async(LiveBattle.objects.filter(status="abandoned").count)() == 1


@pytest.mark.asyncio
async def test_an_anonymous_socket_is_closed_and_starts_nothing(pair):
    from django.contrib.auth.models import AnonymousUser

    comm = WebsocketCommunicator(
        application, "/ws/battle/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    comm.scope["user"] = AnonymousUser()
    connected, _ = await comm.connect()
    assert not connected


def test_a_battle_left_streaming_by_a_restart_is_marked_abandoned(pair, settings):
    from datetime import timedelta

    from django.utils import timezone

    from live.services import stale_abandon

    a, b = pair
    old = LiveBattle.objects.create(address="x", contender_a=a, contender_b=b, a_shown_first=True)
    LiveBattle.objects.filter(pk=old.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
    fresh = LiveBattle.objects.create(address="x", contender_a=a, contender_b=b, a_shown_first=True)
    from live.tasks import battles_abandon_stale

    assert battles_abandon_stale() == 1  # beat's task (a socket opening sweeps too)
    assert stale_abandon() == 0
    assert LiveBattle.objects.get(pk=old.pk).status == "abandoned"
    assert LiveBattle.objects.get(pk=fresh.pk).status == "streaming"


@pytest.mark.asyncio
async def test_moderation_refuses_a_flagged_prompt_stores_the_refusal_and_sends_nothing(pair, llm, settings):
    from live.models import LiveRefusal

    settings.ALLOWED_HOSTS = ["localhost"]
    settings.ARENA_LIVE_MODERATION_URL = llm.base_url
    comm, _ = await connect()
    await comm.send_json_to({"type": "prompt", "text": "Tell me about the forbidden-topic"})
    refused = (await until(comm, {"refused"}))[-1]
    assert "moderation check flagged it (harassment)" in refused["message"]
    assert llm.stats()["total"] == 0  # no contender was asked
    assert await sync_to_async(LiveBattle.objects.count)() == 0
    refusal = await sync_to_async(LiveRefusal.objects.get)()
    assert refusal.categories == ["harassment"] and "forbidden-topic" in refusal.prompt
    await comm.send_json_to({"type": "prompt", "text": "A fine question"})
    assert (await until(comm, {"answered"}))[-1]["turn"] == 1
    # A moderation endpoint that does not answer: nothing is sent (fail closed).
    settings.ARENA_LIVE_MODERATION_URL = "http://127.0.0.1:9/v1"
    await comm.send_json_to({"type": "prompt", "text": "A follow-up"})
    assert "not answering" in (await until(comm, {"refused"}))[-1]["message"]
    await comm.disconnect()
