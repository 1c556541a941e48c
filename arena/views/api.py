"""Read-only JSON (and CSV) API: the same numbers the pages and commands show.

Every endpoint reads its query through the one parameter layer (``arena.params``) with the same
parameter classes as the pages and commands, and answers

* 400 ``{"error", "field", "errors": {parameter: {"code", "message", "allowed"}}}`` naming every
  bad parameter;
* 403 ``{"error", "code": "snapshot_not_available", "canonical"}`` for numbers nobody has
  computed that this client may not have computed (anonymous requests never create work;
  ``canonical`` is the nearest query that anyone may ask for);
* 202 ``{"status": "computing"}`` while a worker builds a snapshot that did not exist yet;
* 422 ``{"error", "code": "not_computable", "key"}`` when the numbers cannot be computed from these
  verdicts (the error says why).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from arena.csvcells import csv_write
from arena.params import ParamError, QueryReader
from reports.selectors.leaderboards import ROW_FIELDS, LeaderboardParams, ReportParams, sources_available
from reports.selectors.reports import AGREEMENT_FIELDS, AgreementParams, BiasParams
from reports.services.snapshots import SnapshotNotAvailable, snapshot_read

FORMATS = ("json", "csv")
NOT_AVAILABLE = "snapshot_not_available"
NOT_COMPUTABLE = "not_computable"


def _bad_request(exc: ParamError) -> JsonResponse:
    return JsonResponse(exc.as_json(), status=400)


def _csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    csv_write(buffer, header, rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _snapshot_endpoint(
    request: HttpRequest,
    params_class: type[ReportParams],
    to_csv: Callable[[Any, dict[str, Any]], HttpResponse],
    api_name: str,
) -> HttpResponse:
    reader = QueryReader(request.GET, allowed=[*params_class.names(), "format"])
    fmt = reader.choice("format", "json", FORMATS)
    params = params_class.read(reader)
    try:
        reader.finish()
    except ParamError as exc:
        return _bad_request(exc)
    try:
        snapshot = snapshot_read(params=params, may_create=request.user.is_staff)
    except SnapshotNotAvailable as exc:
        return JsonResponse(
            {
                "error": "These numbers have not been computed, and only staff may start a computation outside the "
                "default views of each source and prompt set.",
                "code": NOT_AVAILABLE,
                "canonical": f"{reverse(api_name)}?{exc.suggestion}",
            },
            status=403,
        )
    if snapshot.computing:
        return JsonResponse({"status": "computing", "key": snapshot.key}, status=202)
    result = snapshot.result or {}
    if result.get("error"):  # numbers that cannot be computed for these parameters: an error, not a 200
        return JsonResponse(
            {"error": result["error"], "code": NOT_COMPUTABLE, "key": snapshot.key}, status=422
        )
    if fmt == "csv":
        return to_csv(params, result)
    # ``battle_total`` counts the battles read; a leaderboard's ``battle_count`` is its matrix.
    return JsonResponse(
        {"key": snapshot.key, "computed_at": snapshot.computed_at, "seconds": snapshot.seconds, **result}
    )


def _leaderboard_csv(params: LeaderboardParams, result: dict[str, Any]) -> HttpResponse:
    rows = ([row.get(f) for f in ROW_FIELDS] for row in result.get("rows") or [])
    return _csv_response("leaderboard.csv", ROW_FIELDS, rows)


def _flatten(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            label = v.get("model") or v.get("source") or v.get("turn") or i if isinstance(v, dict) else i
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
    return _snapshot_endpoint(request, LeaderboardParams, _leaderboard_csv, "api-leaderboard")


@require_GET
def bias(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, BiasParams, _bias_csv, "api-bias")


@require_GET
def agreement(request: HttpRequest) -> HttpResponse:
    return _snapshot_endpoint(request, AgreementParams, _agreement_csv, "api-agreement")


@require_GET
def sources(request: HttpRequest) -> HttpResponse:
    reader = QueryReader(request.GET, allowed=["format"])
    fmt = reader.choice("format", "json", FORMATS)
    try:
        reader.finish()
    except ParamError as exc:
        return _bad_request(exc)
    names = ["all", *sources_available()]
    if fmt == "csv":
        return _csv_response("sources.csv", ["source"], ([name] for name in names))
    return JsonResponse({"sources": names})
