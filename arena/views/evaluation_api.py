"""The published numbers as read-only JSON and CSV: the same parameters, validation and
snapshots as the pages and the commands (see ``arena.views.api``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from arena.selectors.evaluations import (
    GradesParams,
    JudgesParams,
    ScoresParams,
    WinRateParams,
    flat_rows,
    human_reference_default,
)
from arena.views.api import _csv_response, _snapshot_endpoint


def _csv(params: Any, result: dict[str, Any]) -> HttpResponse:
    header, rows = flat_rows(result)
    return _csv_response(f"{params.kind}.csv", header, rows)


@require_GET
def scores(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: ScoresParams.from_query(request.GET.dict()), _csv)


@require_GET
def winrate(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: WinRateParams.from_query(request.GET.dict()), _csv)


@require_GET
def grades(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: GradesParams.from_query(request.GET.dict()), _csv)


@require_GET
def judges(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(
        request, lambda: JudgesParams.from_query(request.GET.dict(), default_human=human_reference_default()), _csv)
