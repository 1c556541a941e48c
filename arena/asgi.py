"""ASGI entry point served by daphne: HTTP through Django, WebSockets through Channels."""

import asyncio
import gc
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, running the whole middleware chain and view in one worker thread.

    Django builds the ASGI chain in async mode. Our middleware (and every page's view) is sync, so
    stock Django hops event loop → thread for the outer middleware, back to the loop through
    ``async_to_sync`` for its own async core, and to a thread again for the view: three hand-offs
    per request, a large share of daphne's CPU on the vote path (bench_vote.py; PERFORMANCE.md).
    Built in sync mode and called through one ``sync_to_async``, a request makes a single hand-off;
    async views, if one is ever added, still work (Django's sync core runs them with ``async_to_sync``).
    """

    _middleware_chain: Any  # BaseHandler's, which django-stubs leaves out

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain: Any = self._middleware_chain
        # thread_sensitive: on the request's own thread (see __call__), as Django runs sync views,
        # so the ORM connection, the signals and the view all stay on one thread.
        self._middleware_chain = sync_to_async(chain, thread_sensitive=True)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's entry point, with the request's thread taken from a pool of idle ones, and at
        most ``WEB_THREADS`` requests running at once (``_request_turns``).

        Stock Django gives every request a thread-sensitive context with a new one-thread
        executor: a thread started for the request and another started to join it afterwards, a
        good part of a light page's CPU under daphne (bench_vote.py's bare view; PERFORMANCE.md).
        The same context is given a pooled
        executor instead, so everything sync in the request (the request-started and -finished
        signals, which close its database connection, the middleware and the view) still runs
        on one thread that serves no other request meanwhile, as before."""
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if scope.get("path") == HEALTH_PATH:
            # The load balancer's probe never waits behind busy requests for a turn (under load it
            # used to queue for seconds): answered on the event loop, without a request thread.
            from arena.views.health import health_asgi

            await health_asgi(scope, receive, send)
            return
        async with _request_turns():
            executor = _idle_request_threads.pop() if _idle_request_threads else _new_request_thread()
            try:
                async with ThreadSensitiveContext(executor=executor):
                    await self.handle(scope, receive, send)
            finally:
                _idle_request_threads.append(executor)


HEALTH_PATH = "/healthz"

# One-thread executors not serving a request: no more than WEB_THREADS, as no more requests of
# the event loop (daphne runs one) run at once. Only the event loop's thread touches the list.
_idle_request_threads: list[ThreadPoolExecutor] = []
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _request_turns() -> asyncio.Semaphore:
    """At most ``WEB_THREADS`` requests of this event loop run at once; the rest wait their turn.

    Every running request is a thread competing for the GIL, and the competition itself costs
    CPU: with 50 raters voting at once, a vote took less of daphne's CPU with 4 or 8 requests
    running than with all of them, and the queue moved faster (bench_vote.py; PERFORMANCE.md).
    """
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        from django.conf import settings

        turns = _turns[loop] = asyncio.Semaphore(settings.WEB_THREADS)
    return turns


def _new_request_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="arena-request")


django.setup(set_prefix=False)
django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from arena.routing import websocket_urlpatterns  # noqa: E402

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's generations, whose full passes over it showed up as tail latency (PERFORMANCE.md).
gc.freeze()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
