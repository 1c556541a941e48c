"""With Redis as the channel layer, an idle WebSocket consumer stays connected.

redis-py 8's default 5 s socket timeout used to abort channels-redis's blocking read, so every
idle socket was closed with 1011 about every five seconds.
"""

import asyncio
import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.conftest import ROOT


def channel_layers_from_settings(redis_url: str) -> dict:
    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.CHANNEL_LAYERS))"
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "arena.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return json.loads(out.stdout)


@pytest.mark.timing
@pytest.mark.asyncio
async def test_an_idle_receive_outlives_the_redis_socket_timeout(redis_url):
    from channels.layers import channel_layers, get_channel_layer

    with override_settings(CHANNEL_LAYERS=channel_layers_from_settings(redis_url)):
        channel_layers.backends.clear()
        try:
            layer = get_channel_layer()
            name = await layer.new_channel()
            receive = asyncio.ensure_future(layer.receive(name))
            await asyncio.sleep(7)  # longer than redis-py 8's default socket timeout
            assert not receive.done(), receive.exception()
            await layer.send(name, {"type": "hello"})
            assert (await asyncio.wait_for(receive, 5))["type"] == "hello"
            await layer.flush()
        finally:
            channel_layers.backends.clear()
