"""The battle page's socket: one live battle at a time per connection, both sides streamed at once.

The consumer owns its battle's two upstream streams (``live.engine``) and writes their pieces to
its own socket: the tokens never pass through the channel layer, which would add a hop and its
CPU to every piece. When the socket closes the streaming task is cancelled, which closes both
upstream connections at once; the battle is then marked abandoned unless it was voted or ended.

Frames to the page never carry a model's name, endpoint or timing before the vote: the sides are
``left`` and ``right`` (the random order stored with the battle), pieces of text, finished
blocks of sanitised HTML, and a neutral message when a side fails.

Client → server: ``{"type": "prompt", "text"}`` (a new battle, or a follow-up once both
answered), ``{"type": "vote", "verdict": left|right|tie|both_bad}``, ``{"type": "new"}``.
Server → client: ``turn``, ``delta`` (side, text), ``block`` (side, html, upto), ``batch``
(frames: several of these in order, see :class:`Outbox`), ``side_done``
(side, html), ``answered`` (turn, can_follow_up), ``ended`` (message), ``refused`` (message),
``reveal`` (left, right, winner, void, message).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from arena.services.logins import address_of
from judge.client import LLMError, async_sdk_warm_up, moderate
from live import services
from live.engine import SideFailed, SideResult, stream_pair
from live.models import LiveBattle
from live.rendering import StreamRenderer

log = logging.getLogger("live")


def db(func: Any) -> Any:
    """``database_sync_to_async`` on any worker thread, not the one shared thread: a burst of
    battles starting at once would otherwise queue behind each other's queries."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


_last_sweep = 0.0


def scope_address(scope: Mapping[str, Any]) -> str:
    """As ``arena.services.logins.client_address``, from an ASGI scope."""
    headers = dict(scope.get("headers") or [])
    return address_of(
        (scope.get("client") or ("",))[0] or "", headers.get(b"x-forwarded-for", b"").decode("latin-1")
    )


class Outbox:
    """Frames on their way to one socket, a few to a WebSocket message.

    A piece of text that is not its side's first waits up to ``interval`` seconds, so pieces of
    both sides arriving meanwhile travel together (a ``batch``; consecutive pieces of one side
    joined into one ``delta``): at 20 tokens a second a side, a tenth of a second carries four
    pieces in one message instead of four messages. A side's first piece (the time to first
    token) and every other frame go at once, after whatever waits, in order.
    """

    def __init__(self, send: Any, interval: float) -> None:
        self._send = send
        self.interval = interval
        self.pending: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Future[None] | None = None

    async def delta(self, side: str, text: str, *, urgent: bool) -> None:
        last = self.pending[-1] if self.pending else None
        if last is not None and last["type"] == "delta" and last["side"] == side:
            last["text"] += text
        else:
            self.pending.append({"type": "delta", "side": side, "text": text})
        if urgent or self.interval <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._due)

    async def frame(self, frame: dict[str, Any]) -> None:
        self.pending.append(frame)
        await self.flush()

    def _due(self) -> None:
        self._timer = None
        if self.pending:
            self._flushing = asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        frames, self.pending = self.pending, []
        if len(frames) == 1:
            await self._send(frames[0])
        elif frames:
            await self._send({"type": "batch", "frames": frames})

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.pending = []


_warm: asyncio.Future[None] | None = None


async def _warm_up() -> None:
    """The process's first streamed request sets up the SDK's async path (PERFORMANCE.md): done once,
    when the first battle socket opens, not inside a rater's first time to first token."""
    global _warm
    if _warm is None:
        _warm = asyncio.ensure_future(async_sdk_warm_up())
    await asyncio.shield(_warm)


class LiveBattleConsumer(AsyncJsonWebsocketConsumer):
    # No channel layer: nothing outside this socket sends to it, and with Redis every joined
    # socket would hold a blocking read on Redis of its own (200 battles: 200 reads looping).
    channel_layer_alias = "live battle sockets join no layer"
    battle_id: int | None = None
    left_is_a = True
    outbox: Outbox | None = None
    task: asyncio.Task[None] | None = None
    beat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)  # anonymous sockets never start work
            return
        self.user_id = user.pk
        self.address = scope_address(self.scope)
        await _warm_up()
        await self.accept()
        global _last_sweep
        if time.monotonic() - _last_sweep > 30:
            _last_sweep = time.monotonic()
            await db(services.stale_abandon)()
        self.beat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        if self.outbox is not None:
            self.outbox.cancel()
        for task in (self.task, self.beat):
            if task is not None and not task.done():
                task.cancel()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.battle_id is not None:
            await db(services.battle_abandon)(self.battle_id)

    async def _heartbeat(self) -> None:
        interval = max(1.0, settings.ARENA_LIVE_STALE_SECONDS / 3)
        while True:
            await asyncio.sleep(interval)
            if self.battle_id is not None:
                await db(services.heartbeat)([self.battle_id])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "prompt":
            await self._prompt(content.get("text"))
        elif kind == "vote":
            await self._vote(content.get("verdict"))
        elif kind == "new":
            await self._new()
        else:
            await self.send_json({"type": "refused", "message": "Unknown message."})

    async def _refuse(self, message: str) -> None:
        await self.send_json({"type": "refused", "message": message})

    async def _prompt(self, text: Any) -> None:
        if not isinstance(text, str):
            await self._refuse("Type a prompt first.")
            return
        if self.task is not None and not self.task.done():
            await self._refuse("Wait for both answers to finish.")
            return
        try:
            problem = services.prompt_problem(text)
            if problem:
                raise services.LiveRefused(problem)
            await self._moderate(text)
            battle, requests = await db(services.turn_open)(
                battle_id=self.battle_id, user_id=self.user_id, address=self.address, prompt=text
            )
            self.battle_id, self.left_is_a = battle.pk, battle.a_shown_first
        except services.LiveRefused as exc:
            await self._refuse(str(exc))
            return
        except LLMError as exc:  # a contender's endpoint or key variable is not allowed
            await self._end(f"configuration: {exc}")
            return
        self.task = asyncio.create_task(self._stream(battle.pk, battle.turns + 1, text, requests))

    async def _moderate(self, text: str) -> None:
        """The optional moderation step: a flagged prompt is refused (and stored), never sent."""
        endpoint = await db(services.moderation_endpoint)()
        if endpoint is None:
            return
        try:
            verdict = await moderate(
                text, base_url=endpoint[0], api_key=endpoint[1], model=settings.ARENA_LIVE_MODERATION_MODEL
            )
        except LLMError as exc:
            log.warning("moderation endpoint failed: %s", exc)
            raise services.LiveRefused(services.MODERATION_DOWN) from None
        if verdict.flagged:
            await db(services.refusal_store)(
                user_id=self.user_id,
                address=self.address,
                battle_id=self.battle_id,
                prompt=text,
                categories=verdict.categories,
            )
            raise services.LiveRefused(
                services.MODERATION_REFUSAL.format(categories=", ".join(verdict.categories) or "flagged")
            )

    def _shown(self, side: str) -> str:
        return "left" if (side == "a") == self.left_is_a else "right"

    async def _stream(self, battle_id: int, turn: int, prompt: str, requests: Any) -> None:
        renderers = {"a": StreamRenderer(), "b": StreamRenderer()}
        await self.send_json({"type": "turn", "turn": turn, "prompt": prompt})

        outbox = self.outbox = Outbox(self.send_json, settings.ARENA_LIVE_FLUSH_MS / 1000)

        async def on_piece(side: str, piece: str) -> None:
            renderer = renderers[side]
            first = renderer.length == 0
            html = renderer.feed(piece)
            shown = self._shown(side)
            if html is not None:
                outbox.pending.append({"type": "delta", "side": shown, "text": piece})
                await outbox.frame(
                    {"type": "block", "side": shown, "html": html, "upto": renderer.rendered_upto}
                )
            else:
                await outbox.delta(shown, piece, urgent=first)

        async def on_done(side: str, result: SideResult) -> None:
            await outbox.frame(
                {"type": "side_done", "side": self._shown(side), "html": renderers[side].final()}
            )

        try:
            results = await stream_pair(
                requests, on_piece, on_done=on_done, timeout=settings.ARENA_LIVE_TIMEOUT
            )
        except SideFailed as failed:
            outbox.cancel()  # no piece of a failed battle is sent after its end
            await self._end(f"side {failed.side}: {failed.error}")
            return
        finally:
            outbox.cancel()
        try:
            battle = await db(services.turn_store)(battle_id, prompt, results)
        except Exception as exc:  # the database failed us: the battle ends, the socket stays
            log.exception("live battle %s: storing the turn failed", battle_id)
            await self._end(f"storing the turn failed: {exc!r}")
            return
        if battle.status != LiveBattle.Status.ANSWERED:
            return
        await self.send_json(
            {
                "type": "answered",
                "turn": battle.turns,
                "can_follow_up": battle.turns < settings.ARENA_LIVE_MAX_TURNS,
            }
        )

    async def _end(self, error: str) -> None:
        if self.battle_id is not None:
            log.warning("live battle %s ended: %s", self.battle_id, error)
            await db(services.battle_fail)(self.battle_id, error)
        self.battle_id = None
        await self.send_json({"type": "ended", "message": services.NEUTRAL_ERROR})

    async def _vote(self, verdict: Any) -> None:
        if self.battle_id is None or (self.task is not None and not self.task.done()):
            await self._refuse("A vote is possible once both answers are complete.")
            return
        try:
            reveal = await db(services.battle_vote)(
                self.battle_id, user_id=self.user_id, verdict=str(verdict)
            )
        except services.LiveRefused as exc:
            await self._refuse(str(exc))
            return
        self.battle_id = None
        await self.send_json({"type": "reveal", **reveal.as_dict()})

    async def _new(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.battle_id is not None:
            await db(services.battle_abandon)(self.battle_id)
        self.battle_id = None
        await self.send_json({"type": "cleared"})
