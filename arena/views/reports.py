"""The bias and agreement pages: a source picker, the report's numbers and their plots."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from arena import svg
from arena.params import REQUIRED, ParamError
from arena.selectors.leaderboards import filter_choices
from arena.selectors.reports import AgreementParams, BiasParams, agreement_default_pair
from arena.views.snapshot_page import snapshot_page


def _shown(value: Any) -> str:
    """How a report number is printed on the page (the exports keep full precision)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def _scalars_and_tables(section: Any, prefix: str = "") -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """A report section as label/value pairs plus tables (lists of records), for the template."""
    scalars: list[tuple[str, Any]] = []
    tables: list[dict[str, Any]] = []
    if not isinstance(section, dict):
        return scalars, tables
    for name, value in section.items():
        label = f"{prefix}{name}".replace("_", " ")
        if isinstance(value, dict):
            inner_scalars, inner_tables = _scalars_and_tables(value, f"{prefix}{name} · ")
            scalars += inner_scalars
            tables += inner_tables
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for v in value for k, x in v.items() if not isinstance(x, dict | list)))
            tables.append({"title": label, "columns": columns,
                           "rows": [[_shown(v.get(c)) for c in columns] for v in value]})
        elif not isinstance(value, list):
            scalars.append((label, _shown(value)))
    return scalars, tables


def bias(request: HttpRequest) -> HttpResponse:
    choices = filter_choices()
    sources = choices["sources"][1:]

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        sections = []
        for name, title in (("position", "Position bias"), ("length", "Length bias"),
                            ("inter_rater", "Agreement among raters of the same comparison")):
            scalars, tables = _scalars_and_tables(result.get(name))
            sections.append({"name": name, "title": title, "scalars": scalars, "tables": tables,
                             "empty": result.get(name) is None})
        context.update(
            sections=sections,
            position_svg=mark_safe(svg.position_chart(result.get("position"))),  # noqa: S308 - escaped in arena.svg
            length_svg=mark_safe(svg.length_chart(result.get("length"))),  # noqa: S308
            grades=result.get("grades") or [],
            grades_svg=mark_safe(svg.stacked_bars(result.get("grades") or [])),  # noqa: S308
            hhh=result.get("hhh") or {},
        )

    return snapshot_page(request, "arena/bias.html", {"choices": choices}, BiasParams, decorate,
                         default_source=(sources or ["human"])[0])


def agreement(request: HttpRequest) -> HttpResponse:
    choices = filter_choices()
    default_a, default_b = agreement_default_pair()

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        overall = result.get("overall") or {}
        per_turn = result.get("per_turn") or []
        context.update(
            overall=overall, turn_rows=[{"turn": "all", **overall}, *per_turn],
            confusion_rows=list(zip(overall.get("class_names") or [], overall.get("confusion") or [], strict=False)),
            battles_a=result.get("battles_a"), battles_b=result.get("battles_b"),
            agreement_svg=mark_safe(svg.agreement_chart(overall, per_turn)),  # noqa: S308 - escaped in arena.svg
        )

    context: dict[str, Any] = {"choices": choices}
    if default_a is None or default_b is None:
        context["error"] = ParamError.one("a", REQUIRED, "Agreement needs verdicts from two sources; there are not two yet.",
                                          "two sources with verdicts")
        return render(request, "arena/agreement.html", context)
    return snapshot_page(request, "arena/agreement.html", context, AgreementParams, decorate,
                         default_a=default_a, default_b=default_b)
