"""Both sides of a live battle streamed at once. No Django, no database: async only.

Each side is one asyncio task reading its endpoint's stream (``judge.client.AsyncStreamingClient``);
both tasks are created together, so both requests leave at the same moment, and each piece is handed
to ``on_piece`` as it arrives, so a slow side never holds up the other. When one side fails the
other is cancelled (its upstream connection closed) and :class:`SideFailed` says which side and
why. Cancelling ``stream_pair`` itself (the browser went away) cancels both tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from judge.client import AsyncStreamingClient, LLMError, StreamEnd
from judge.prompts import ChatMessage

SIDES = ("a", "b")


@dataclass(frozen=True)
class SideRequest:
    client: AsyncStreamingClient
    model: str
    messages: Sequence[ChatMessage]
    temperature: float
    max_tokens: int


@dataclass(frozen=True)
class SideResult:
    text: str
    input_tokens: int
    output_tokens: int
    first_token_ms: float | None
    total_ms: float


class SideFailed(Exception):
    def __init__(self, side: str, error: BaseException) -> None:
        super().__init__(f"side {side}: {error}")
        self.side = side
        self.error = error


OnPiece = Callable[[str, str], Coroutine[Any, Any, None]]
OnDone = Callable[[str, SideResult], Coroutine[Any, Any, None]]


async def _side(
    side: str, request: SideRequest, on_piece: OnPiece, on_done: OnDone | None, timeout: float
) -> SideResult:
    try:
        async with asyncio.timeout(timeout):
            async for item in request.client.stream(
                request.messages,
                model=request.model,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                timeout=timeout,
            ):
                if isinstance(item, StreamEnd):
                    result = SideResult(
                        item.text,
                        item.input_tokens,
                        item.output_tokens,
                        None if item.first_token_s is None else item.first_token_s * 1000,
                        item.total_s * 1000,
                    )
                    if on_done is not None:
                        await on_done(side, result)
                    return result
                await on_piece(side, item)
    except (LLMError, TimeoutError) as exc:
        raise SideFailed(side, exc) from exc
    raise SideFailed(side, RuntimeError("the stream ended without its end"))


async def stream_pair(
    requests: dict[str, SideRequest], on_piece: OnPiece, *, timeout: float, on_done: OnDone | None = None
) -> dict[str, SideResult]:
    """Stream both sides concurrently; their results, or :class:`SideFailed` for the first failure.
    ``on_done`` is called for each side as soon as that side has finished."""
    tasks = {
        side: asyncio.create_task(
            _side(side, requests[side], on_piece, on_done, timeout), name=f"live-side-{side}"
        )
        for side in SIDES
    }
    try:
        done, pending = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
        failed = [t for t in done if t.exception() is not None]
        if failed:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            error = failed[0].exception()
            assert error is not None
            raise error
        return {side: task.result() for side, task in tasks.items()}
    finally:
        running = [t for t in tasks.values() if not t.done()]
        for task in running:  # cancelled from outside: close both upstream streams
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
