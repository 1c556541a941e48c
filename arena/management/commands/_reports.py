"""What the evaluation report commands share: read the options through the one parameter layer
like the page and the API do (the same checks, the same sentences), compute the report, and print
it as a table, JSON or CSV."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from arena.csvcells import csv_write
from arena.params import ParamError
from reports.selectors.evaluations import evaluation_compute, flat_rows
from reports.selectors.leaderboards import ReportParams


class ReportCommand(BaseCommand):
    # Django's system checks load the URL conf and with it every view (slow at start;
    # PERFORMANCE.md); a report command reads the database and prints, so it skips them as `shell` does.
    requires_system_checks: list[str] = []


def add_format(parser: Any) -> None:
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table", dest="fmt")


def run_report(
    command: BaseCommand, params_class: type[ReportParams], query: Mapping[str, Any], fmt: str
) -> dict[str, Any]:
    """Validate ``query`` with the report's parameter class, compute it and print it."""
    try:
        params = params_class.from_query({k: v for k, v in query.items() if v is not None})
    except ParamError as exc:
        raise CommandError(exc.command_message()) from exc
    result = evaluation_compute(params=params)
    out = command.stdout
    if fmt == "json":
        out.write(json.dumps(result, indent=2))  # one write: the wrapper ends each write with a newline
        return result
    header, rows = flat_rows(result)
    if fmt == "csv":
        csv_write(out, header, rows)
        return result
    out.write(f"{params.kind} report, {result.get('battle_total', 0)} records read ({params.key})")
    if result.get("error"):
        out.write(result["error"])
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    out.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return result


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
