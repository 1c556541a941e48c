"""The published numbers' pages: MT-Bench scores, win rate against a baseline, grades and HHH,
the table comparing judges, and the comparisons behind them. Thin: read the filters with the
report's parameter class and its snapshot (``snapshot_page``, as the leaderboard does: 400 naming
every bad parameter, 403 for numbers this visitor may not have computed), turn the stored result
into plots and rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from arena.params import REQUIRED, ParamError
from arena.views.requests import HtmxRequest
from arena.views.snapshot_page import snapshot_page
from reports import svg
from reports.selectors import comparisons as browse
from reports.selectors.evaluations import (
    GradesParams,
    JudgesParams,
    ScoresParams,
    WinRateParams,
    judge_row_flat,
    score_sources,
)
from reports.selectors.leaderboards import filter_choices


def _svg(markup: str) -> str:
    return mark_safe(markup)  # noqa: S308 - every text in it is escaped by reports.svg


def comparisons_link(**filters: Any) -> str:
    """The comparisons page filtered to what a figure counts."""
    return "/comparisons/?" + urlencode({k: v for k, v in filters.items() if v not in (None, "")})


def scores(request: HtmxRequest) -> HttpResponse:
    sources = score_sources()
    context: dict[str, Any] = {"choices": {**filter_choices(), "sources": sources}}
    if not sources and "source" not in request.GET:
        context["error"] = ParamError.one(
            "source",
            REQUIRED,
            "No single-answer scores yet.",
            "a judge run in single mode, or FastChat's *_single.jsonl imported (import_scores)",
        )
        return render(request, "arena/scores.html", context)

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        rows = result.get("rows") or []
        turns = [str(t) for t in result.get("turns") or []]
        table = []
        for r in rows:
            table.append(
                {
                    "model": r["model"],
                    "overall": r["overall"],
                    "turns": [r["turns"].get(t) for t in turns],
                    "categories": r["categories"],
                }
            )
        bars = [
            {
                "label": r["model"],
                "value": r["overall"]["mean"],
                "low": r["overall"]["ci_low"],
                "high": r["overall"]["ci_high"],
            }
            for r in rows
        ]
        multiples = []
        for category in result.get("categories") or []:
            items = [
                {
                    "label": r["model"],
                    "value": (r["categories"].get(category) or {}).get("mean"),
                    "low": (r["categories"].get(category) or {}).get("ci_low"),
                    "high": (r["categories"].get(category) or {}).get("ci_high"),
                }
                for r in rows
            ]
            n = sum((r["categories"].get(category) or {}).get("n") or 0 for r in rows)
            multiples.append(
                {
                    "category": category,
                    "n": n,
                    "svg": _svg(
                        svg.bar_chart(
                            items,
                            title=f"{category} (n={n})",
                            value_label="mean score",
                            domain=(0.0, 10.0),
                            width=360,
                            digits=1,
                        )
                    ),
                }
            )
        context.update(
            turns=turns,
            table=table,
            categories=result.get("categories") or [],
            overall_svg=_svg(
                svg.bar_chart(
                    bars,
                    title="Mean score with its bootstrap interval",
                    value_label="mean score 1-10 (both turns)",
                    domain=(0.0, 10.0),
                    digits=2,
                )
            ),
            multiples=multiples,
        )

    return snapshot_page(
        request,
        "arena/scores.html",
        context,
        ScoresParams,
        decorate,
        default_source=sources[0] if sources else None,
    )


def winrate(request: HtmxRequest) -> HttpResponse:
    choices = filter_choices()
    contenders = browse.contender_names()
    context: dict[str, Any] = {"choices": {**choices, "contenders": contenders}}
    default = next((s for s in choices["sources"] if s.startswith(("judge:", "import:"))), "all")

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        rows = result.get("rows") or []
        baseline = result.get("baseline")
        params = context["params"]
        items, lc_items = [], []
        for r in rows:
            r["link"] = comparisons_link(
                source=params.source, a=r["model"], b=baseline, prompt_set=params.prompt_set
            )
            items.append(
                {"label": r["model"], "value": r["win_rate"], "low": r["ci_low"], "high": r["ci_high"]}
            )
            lc = r.get("length_controlled") or {}
            if lc.get("length_controlled_win_rate") is not None:
                lc_items.append(
                    {
                        "label": r["model"],
                        "value": lc["length_controlled_win_rate"],
                        "low": lc.get("ci_low"),
                        "high": lc.get("ci_high"),
                    }
                )
        bt = result.get("bradley_terry") or []
        context.update(
            rows=rows,
            baseline=baseline,
            bt=bt,
            winrate_svg=_svg(
                svg.bar_chart(
                    items,
                    title=f"Win rate against {baseline}",
                    value_label="win rate %",
                    domain=(0.0, 100.0),
                    reference=50.0,
                    digits=1,
                )
            ),
            lc_svg=_svg(
                svg.bar_chart(
                    lc_items,
                    title="Length-controlled win rate",
                    value_label="LC win rate %",
                    domain=(0.0, 100.0),
                    reference=50.0,
                    digits=1,
                )
            ),
            bt_svg=_svg(
                svg.ratings_chart(
                    [{**b, "rank": i + 1} for i, b in enumerate(bt)],
                    title=f"Bradley–Terry ratings, {baseline} anchored at 1000",
                )
            ),
        )

    return snapshot_page(
        request, "arena/winrate.html", context, WinRateParams, decorate, default_source=default
    )


def grades(request: HtmxRequest) -> HttpResponse:
    choices = filter_choices()
    sources = [s for s in choices["sources"] if s == "human" or s.startswith(("judge:", "panel:"))] or [
        "human"
    ]
    context: dict[str, Any] = {"choices": {**choices, "sources": sources}}

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        human = result.get("human") or {}
        context.update(
            grades=result.get("grades") or [],
            hhh=result.get("hhh") or {},
            human=human,
            agreement=result.get("grade_agreement"),
            grades_svg=_svg(
                svg.stacked_bars(
                    result.get("grades") or [],
                    title=f"Grades A–D per model, {context['params'].source} (n={result.get('grades_n', 0)})",
                )
            ),
            human_grades_svg=_svg(
                svg.stacked_bars(
                    human.get("grades") or [],
                    title=f"Grades A–D per model, people (n={human.get('grades_n', 0)})",
                )
            )
            if human
            else "",
            hhh_svgs=[
                _svg(
                    svg.stacked_bars(
                        [
                            {"model": r["model"], "won": r["wins"], "same": r["same"], "lost": r["losses"]}
                            for r in board
                        ],
                        categories=("won", "same", "lost"),
                        title=f"{criterion}: won / the same / lost (n={sum(r['n'] for r in board) // 2})",
                    )
                )
                for criterion, board in (result.get("hhh") or {}).items()
                if board
            ],
        )

    return snapshot_page(
        request, "arena/grades.html", context, GradesParams, decorate, default_source=sources[0]
    )


def judges(request: HtmxRequest) -> HttpResponse:
    choices = filter_choices()
    human_sources = [s for s in choices["sources"] if s == "human" or s.startswith("import:")]
    context: dict[str, Any] = {"choices": {**choices, "human_sources": human_sources}}

    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        rows = [judge_row_flat(r) for r in result.get("rows") or []]
        params = context["params"]
        for r in rows:
            r["link"] = comparisons_link(
                source=r["source"], disagreement="human", human=params.human, prompt_set=params.prompt_set
            )
        context.update(
            rows=rows,
            agreement_svg=_svg(
                svg.bar_chart(
                    [{"label": r["source"], "value": r["s1"]} for r in rows],
                    title="Agreement with people (S1)",
                    value_label=f"share of verdict pairs agreeing with {params.human}",
                    domain=(0.0, 1.0),
                )
            ),
        )

    return snapshot_page(request, "arena/judges.html", context, JudgesParams, decorate)


def comparisons(request: HttpRequest) -> HttpResponse:
    """Browse the comparisons behind a figure: prompt, both answers, every judge's explanation in
    both orders, the human votes and the reference answer. A paginated read, not a report."""
    choices = filter_choices()
    context: dict[str, Any] = {
        "choices": {**choices, "contenders": browse.contender_names(), "disagreements": browse.DISAGREEMENTS}
    }
    try:
        filters = browse.ComparisonFilters.from_query(request.GET)
    except ParamError as exc:
        context["error"] = exc
        context["filters"] = None
        return render(request, "arena/comparisons.html", context, status=400)
    page = browse.comparisons_page(filters=filters)
    context.update(filters=filters, page=page)
    return render(request, "arena/comparisons.html", context)
