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
Server → client: ``turn``, ``delta`` (side, text), ``block`` (side, html, upto), ``side_done``
(side, html), ``answered`` (turn, can_follow_up), ``ended`` (message), ``refused`` (message),
``reveal`` (left, right, winner, void, message).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from judge.client import LLMError, moderate
from live import services
from live.engine import SideFailed, SideResult, stream_pair
from live.models import LiveBattle
from live.rendering import StreamRenderer

log = logging.getLogger("live")
_last_sweep = 0.0


def scope_address(scope: dict[str, Any]) -> str:
    """As ``arena.services.logins.client_address``, from an ASGI scope."""
    raw = (scope.get("client") or ("",))[0] or ""
    if settings.BEHIND_PROXY:
        headers = dict(scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")[-1].strip()
        raw = forwarded or raw
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LiveBattleConsumer(AsyncJsonWebsocketConsumer):
    battle_id: int | None = None
    left_is_a = True
    task: asyncio.Task[None] | None = None
    beat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)  # anonymous sockets never start work
            return
        self.user_id = user.pk
        self.address = scope_address(self.scope)
        await self.accept()
        global _last_sweep
        if time.monotonic() - _last_sweep > 30:
            _last_sweep = time.monotonic()
            await database_sync_to_async(services.stale_abandon)()
        self.beat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        for task in (self.task, self.beat):
            if task is not None and not task.done():
                task.cancel()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.battle_id is not None:
            await database_sync_to_async(services.battle_abandon)(self.battle_id)

    async def _heartbeat(self) -> None:
        interval = max(1.0, settings.ARENA_LIVE_STALE_SECONDS / 3)
        while True:
            await asyncio.sleep(interval)
            if self.battle_id is not None:
                await database_sync_to_async(services.heartbeat)([self.battle_id])

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
            if self.battle_id is None:
                battle = await database_sync_to_async(services.battle_start)(
                    user_id=self.user_id, address=self.address, prompt=text)
                self.battle_id, self.left_is_a = battle.pk, battle.a_shown_first
            else:
                battle = await database_sync_to_async(services.turn_begin)(self.battle_id)
            requests = await database_sync_to_async(services.side_requests)(
                await database_sync_to_async(services.battle_load)(battle.pk), text)
        except services.LiveRefused as exc:
            await self._refuse(str(exc))
            return
        except LLMError as exc:  # a contender's endpoint or key variable is not allowed
            await self._end(f"configuration: {exc}")
            return
        self.task = asyncio.create_task(self._stream(battle.pk, battle.turns + 1, text, requests))

    async def _moderate(self, text: str) -> None:
        """The optional moderation step: a flagged prompt is refused (and stored), never sent."""
        endpoint = await database_sync_to_async(services.moderation_endpoint)()
        if endpoint is None:
            return
        try:
            verdict = await moderate(text, base_url=endpoint[0], api_key=endpoint[1],
                                     model=settings.ARENA_LIVE_MODERATION_MODEL)
        except LLMError as exc:
            log.warning("moderation endpoint failed: %s", exc)
            raise services.LiveRefused(services.MODERATION_DOWN) from None
        if verdict.flagged:
            await database_sync_to_async(services.refusal_store)(
                user_id=self.user_id, address=self.address, battle_id=self.battle_id, prompt=text,
                categories=verdict.categories)
            raise services.LiveRefused(services.MODERATION_REFUSAL.format(
                categories=", ".join(verdict.categories) or "flagged"))

    def _shown(self, side: str) -> str:
        return "left" if (side == "a") == self.left_is_a else "right"

    async def _stream(self, battle_id: int, turn: int, prompt: str, requests: Any) -> None:
        renderers = {"a": StreamRenderer(), "b": StreamRenderer()}
        await self.send_json({"type": "turn", "turn": turn, "prompt": prompt})

        async def on_piece(side: str, piece: str) -> None:
            renderer = renderers[side]
            html = renderer.feed(piece)
            shown = self._shown(side)
            await self.send_json({"type": "delta", "side": shown, "text": piece})
            if html is not None:
                await self.send_json({"type": "block", "side": shown, "html": html, "upto": renderer.rendered_upto})

        async def on_done(side: str, result: SideResult) -> None:
            await self.send_json({"type": "side_done", "side": self._shown(side), "html": renderers[side].final()})

        try:
            results = await stream_pair(requests, on_piece, on_done=on_done, timeout=settings.ARENA_LIVE_TIMEOUT)
        except SideFailed as failed:
            await self._end(f"side {failed.side}: {failed.error}")
            return
        battle = await database_sync_to_async(services.turn_store)(battle_id, prompt, results)
        if battle.status != LiveBattle.Status.ANSWERED:
            return
        await self.send_json({"type": "answered", "turn": battle.turns,
                              "can_follow_up": battle.turns < settings.ARENA_LIVE_MAX_TURNS})

    async def _end(self, error: str) -> None:
        if self.battle_id is not None:
            log.warning("live battle %s ended: %s", self.battle_id, error)
            await database_sync_to_async(services.battle_fail)(self.battle_id, error)
        self.battle_id = None
        await self.send_json({"type": "ended", "message": services.NEUTRAL_ERROR})

    async def _vote(self, verdict: Any) -> None:
        if self.battle_id is None or (self.task is not None and not self.task.done()):
            await self._refuse("A vote is possible once both answers are complete.")
            return
        try:
            reveal = await database_sync_to_async(services.battle_vote)(
                self.battle_id, user_id=self.user_id, verdict=str(verdict))
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
            await database_sync_to_async(services.battle_abandon)(self.battle_id)
        self.battle_id = None
        await self.send_json({"type": "cleared"})
