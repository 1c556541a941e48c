"""The run page's live progress socket: join the run's group, forward what workers send.

The worker (``judge.progress``) sends the rendered progress fragment; the page's htmx ws
extension swaps it in by id. Staff only, like the run pages.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from judge.progress import run_group


class RunProgressConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_staff:
            await self.close(code=4403)
            return
        self.group = run_group(int(self.scope["url_route"]["kwargs"]["run_id"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_progress(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])
