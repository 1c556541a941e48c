"""The bias and agreement pages: a source picker, the report's numbers and their plots."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from arena.params import REQUIRED, ParamError
from arena.views.requests import HtmxRequest
from arena.views.snapshot_page import snapshot_page
from reports import svg
from reports.selectors.leaderboards import filter_choices
from reports.selectors.reports import AgreementParams, BiasParams, agreement_default_pair


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
            columns = list(
                dict.fromkeys(k for v in value for k, x in v.items() if not isinstance(x, dict | list))
            )
            tables.append(
                {
                    "title": label,
                    "columns": columns,
                    "rows": [[_shown(v.get(c)) for c in columns] for v in value],
                }
            )
        elif not isinstance(value, list):
            scalars.append((label, _shown(value)))
    return scalars, tables


def _share_cells(share: dict[str, Any] | None) -> dict[str, str]:
    """A binomial share as table cells: successes, n, the share, its 95 % interval, the p-value."""
    from arena.ratings.bias import format_p_value  # numpy and scipy load on first use, not at startup

    if not share or share.get("share") is None:
        return {"successes": "-", "n": str((share or {}).get("trials", 0)), "share": "-", "ci": "-", "p": "-"}
    return {
        "successes": f"{share['successes']:,}",
        "n": f"{share['trials']:,}",
        "share": f"{share['share']:.3f}",
        "ci": f"{share['ci_low']:.3f}–{share['ci_high']:.3f}",
        "p": format_p_value(share.get("p_value")),
    }


def bias(request: HtmxRequest) -> HttpResponse:
    choices = filter_choices()
    sources = choices["sources"][1:]

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        if result.get("error"):
            return
        scalars, tables = _scalars_and_tables(result.get("inter_rater"))
        position = result.get("position") or {}
        length = result.get("length")
        context.update(
            caveats=result.get("caveats") or [],
            position_rows=[
                {"label": row["source"], "reason": row["reason"], **_share_cells(row["first_shown_wins"])}
                for row in position.get("rows") or []
            ],
            position_overall=_share_cells(position["overall"]) if position.get("overall") else None,
            length_error=(length or {}).get("error"),
            length_rows=(
                [{"label": "all gaps", **_share_cells(length["overall"])}]
                + [
                    {"label": f"gap {row['low']:.0%}–{row['high']:.0%}", **_share_cells(row["longer_wins"])}
                    for row in length["rows"]
                ]
            )
            if length and not length.get("error")
            else [],
            length=length if length and not length.get("error") else None,
            consistency_rows=[
                {
                    "label": row["source"],
                    "counted_from": row["counted_from"],
                    "inconsistent": row["inconsistent"],
                    **_share_cells(row["consistent"]),
                    "favour": _share_cells(row["favour_first"]) if row["favour_first"] else None,
                }
                for row in (result.get("consistency") or {}).get("rows") or []
            ],
            inter_rater={"scalars": scalars, "tables": tables, "empty": result.get("inter_rater") is None},
            position_svg=mark_safe(svg.position_chart(position)),  # noqa: S308 - escaped in reports.svg
            length_svg=mark_safe(svg.length_chart(length)),  # noqa: S308
            grades=result.get("grades") or [],
            grades_svg=mark_safe(svg.stacked_bars(result.get("grades") or [])),  # noqa: S308
            hhh=result.get("hhh") or {},
        )

    return snapshot_page(
        request,
        "arena/bias.html",
        {"choices": choices},
        BiasParams,
        decorate,
        default_source=(sources or ["human"])[0],
    )


def agreement(request: HtmxRequest) -> HttpResponse:
    choices = filter_choices()
    default_a, default_b = agreement_default_pair()

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        overall = result.get("overall") or {}
        per_turn = result.get("per_turn") or []
        context.update(
            overall=overall,
            turn_rows=[{"turn": "all", **overall}, *per_turn],
            confusion_rows=list(
                zip(overall.get("class_names") or [], overall.get("confusion") or [], strict=False)
            ),
            battles_a=result.get("battles_a"),
            battles_b=result.get("battles_b"),
            agreement_svg=mark_safe(svg.agreement_chart(overall, per_turn)),  # noqa: S308 - escaped in reports.svg
        )

    context: dict[str, Any] = {"choices": choices}
    # Both sources named (one source twice: agreement among its raters) need no default pair.
    if (default_a is None or default_b is None) and not (request.GET.get("a") and request.GET.get("b")):
        context["error"] = ParamError.one(
            "a",
            REQUIRED,
            "Agreement needs verdicts from two sources; there are not two yet.",
            "two sources with verdicts",
        )
        return render(request, "arena/agreement.html", context)
    return snapshot_page(
        request,
        "arena/agreement.html",
        context,
        AgreementParams,
        decorate,
        default_a=default_a,
        default_b=default_b,
    )
