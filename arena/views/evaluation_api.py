"""The published numbers as read-only JSON and CSV: the same parameters, validation and
snapshots as the pages and the commands (see ``arena.views.api``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from arena.views.api import _csv_response, _snapshot_endpoint
from reports.selectors.evaluations import GradesParams, JudgesParams, ScoresParams, WinRateParams, flat_rows
from reports.selectors.leaderboards import ReportParams


def _csv(params: Any, result: dict[str, Any]) -> HttpResponse:
    header, rows = flat_rows(result)
    return _csv_response(f"{params.kind}.csv", header, rows)


def _endpoint(params_class: type[ReportParams]) -> Callable[[HttpRequest], HttpResponse]:
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return _snapshot_endpoint(request, params_class, _csv, f"api-{params_class.kind}")

    return view


scores = _endpoint(ScoresParams)
winrate = _endpoint(WinRateParams)
grades = _endpoint(GradesParams)
judges = _endpoint(JudgesParams)
