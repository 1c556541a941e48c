"""The run page's live progress socket: join the run's group, forward what workers send.

The worker (``judge.services.progress``) sends the rendered progress fragment; the page's htmx ws
extension swaps it in by id. Staff only, like the run pages.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from judge.services.progress import run_group


class RunProgressConsumer(AsyncWebsocketConsumer):
    def group_name(self, kwargs: dict[str, Any]) -> str:
        return run_group(int(kwargs["run_id"]))

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_staff:
            await self.close(code=4403)
            return
        self.group = self.group_name(self.scope["url_route"]["kwargs"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        html = await self.current_html(self.scope["url_route"]["kwargs"])
        if html:
            await self.send(text_data=html)

    async def current_html(self, kwargs: dict[str, Any]) -> str | None:
        """What to send on connect (none for runs: the page was rendered with the latest)."""
        return None

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_progress(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])


class EvaluationProgressConsumer(RunProgressConsumer):
    """The evaluation page's socket: the same, on the evaluation's group (judge.services.evaluations)."""

    def group_name(self, kwargs: dict[str, Any]) -> str:
        from judge.services.evaluations import evaluation_group

        return evaluation_group(int(kwargs["evaluation_id"]))

    async def current_html(self, kwargs: dict[str, Any]) -> str | None:
        """The state now: an evaluation quicker than the page's connection is not left showing
        its start."""
        from judge.models import Evaluation
        from judge.services.evaluations import progress_html

        @database_sync_to_async
        def render() -> str | None:
            evaluation = Evaluation.objects.filter(pk=int(kwargs["evaluation_id"])).first()
            return progress_html(evaluation) if evaluation else None

        return await render()
