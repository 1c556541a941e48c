"""Live leaderboards: a socket that tells open pages a snapshot has new numbers.

The consumer only joins the group and forwards messages (the Celery worker sends them through
``reports.services.snapshots.snapshot_announce``); the page decides whether the key is its own
and re-fetches its results partial.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from reports.services.snapshots import LIVE_GROUP


class LeaderboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(LIVE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)

    async def snapshot_updated(self, event: dict[str, Any]) -> None:
        await self.send_json({"event": "snapshot.updated", "key": event["key"]})
