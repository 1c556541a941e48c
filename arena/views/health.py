"""/healthz: can this process reach what it needs? JSON, 200 when everything is up, else 503.

It reports reachability and queue depth only — never URLs, hosts or credentials.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from arena.selectors.health import health_get


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_get()
    return JsonResponse(report, status=200 if report["ok"] else 503)
