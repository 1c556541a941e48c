"""/healthz: can this process reach what it needs? JSON, 200 when everything is up, else 503.

It reports reachability and queue depth only — never URLs, hosts or credentials. Under daphne the
probe is answered on the event loop before Django's request queue (``health_asgi``, called by
arena.asgi), so a busy process still answers within a second; the view serves other servers
(runserver, the test client) with the same report.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from arena.selectors.health import health_get_async

HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"max-age=0, no-cache, no-store, must-revalidate, private"),
    (b"x-content-type-options", b"nosniff"),
]


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = async_to_sync(health_get_async)()
    return JsonResponse(report, status=200 if report["ok"] else 503)


async def health_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same answer straight from the event loop (GET and HEAD)."""
    if scope.get("method") not in ("GET", "HEAD"):
        await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"GET, HEAD")]})
        await send({"type": "http.response.body", "body": b""})
        return
    report = await health_get_async()
    body = json.dumps(report).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if report["ok"] else 503,
            "headers": [*HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
