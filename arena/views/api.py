"""Read-only JSON (and CSV) API: the same numbers the pages and commands show.

Every endpoint parses its query through the same parameter classes as the commands, answers
400 with ``{"error", "field"}`` for a bad parameter, and 202 ``{"status": "computing"}`` while
a worker builds a snapshot that did not exist yet.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from arena.csvcells import csv_write
from arena.selectors.leaderboards import ROW_FIELDS, LeaderboardParams, ParamError, sources_available
from arena.selectors.reports import AGREEMENT_FIELDS, AgreementParams, BiasParams
from arena.services.snapshots import snapshot_get_or_schedule

FORMATS = ("json", "csv")


def _bad_request(exc: ParamError) -> JsonResponse:
    return JsonResponse({"error": exc.message, "field": exc.field}, status=400)


def _format(request: HttpRequest) -> str:
    fmt = request.GET.get("format") or "json"
    if fmt not in FORMATS:
        raise ParamError("format", f"format must be json or csv, not {fmt!r}.")
    return fmt


def _csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    csv_write(buffer, header, rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _snapshot_endpoint(request: HttpRequest, parse: Callable[[], Any],
                       to_csv: Callable[[Any, dict[str, Any]], HttpResponse]) -> HttpResponse:
    try:
        fmt = _format(request)
        params = parse()
    except ParamError as exc:
        return _bad_request(exc)
    snapshot = snapshot_get_or_schedule(params=params)
    if snapshot.computing:
        return JsonResponse({"status": "computing", "key": snapshot.key}, status=202)
    result = snapshot.result or {}
    if fmt == "csv":
        return to_csv(params, result)
    # ``battle_total`` counts the battles read; a leaderboard's ``battle_count`` is its matrix.
    return JsonResponse({"key": snapshot.key, "computed_at": snapshot.computed_at, "seconds": snapshot.seconds,
                         **result})


def _leaderboard_csv(params: LeaderboardParams, result: dict[str, Any]) -> HttpResponse:
    rows = ([row.get(f) for f in ROW_FIELDS] for row in result.get("rows") or [])
    return _csv_response("leaderboard.csv", ROW_FIELDS, rows)


def _flatten(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            label = v.get("model") or v.get("turn") or i if isinstance(v, dict) else i
            yield from _flatten(v, f"{path}[{label}]")
    else:
        yield path, value


def _bias_csv(params: BiasParams, result: dict[str, Any]) -> HttpResponse:
    """Long format, one number per line: the report's nested sections as dotted paths."""
    body = {k: v for k, v in result.items() if k not in ("params", "kind")}
    return _csv_response("bias.csv", ("metric", "value"), _flatten(body))


def _agreement_csv(params: AgreementParams, result: dict[str, Any]) -> HttpResponse:
    """One line overall (turn "all") and one per turn; the confusion matrices stay in the JSON."""
    rows = [{"turn": "all", **(result.get("overall") or {})}, *(result.get("per_turn") or [])]
    fields = ("turn", *AGREEMENT_FIELDS)
    return _csv_response("agreement.csv", fields, ([r.get(f) for f in fields] for r in rows))


@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: LeaderboardParams.from_query(request.GET.dict()), _leaderboard_csv)


@require_GET
def bias(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: BiasParams.from_query(request.GET.dict()), _bias_csv)


@require_GET
def agreement(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, lambda: AgreementParams.from_query(request.GET.dict()), _agreement_csv)


@require_GET
def sources(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"sources": ["all", *sources_available()]})
