"""ASGI entry point served by daphne: HTTP through Django, WebSockets through Channels."""

import gc
import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, running the whole middleware chain and view in one worker thread.

    Django builds the ASGI chain in async mode. Our middleware (and every page's view) is sync, so
    stock Django hops event loop → thread for the outer middleware, back to the loop through
    ``async_to_sync`` for its own async core, and to a thread again for the view: three hand-offs
    per request, which profiling of the vote path put at a sixth of daphne's CPU. Built in sync
    mode and called through one ``sync_to_async``, a request makes a single hand-off; async views,
    if one is ever added, still work (Django's sync core runs them with ``async_to_sync``).
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain: Any = self._middleware_chain
        # thread_sensitive: the request's thread-sensitive context gives every request its own
        # thread, as Django does for its sync views, so ORM connections stay on one thread.
        self._middleware_chain = sync_to_async(chain, thread_sensitive=True)


django.setup(set_prefix=False)
django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from arena.routing import websocket_urlpatterns  # noqa: E402

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's generations, whose full passes over it showed up as 60–120 ms tail latency.
gc.freeze()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
