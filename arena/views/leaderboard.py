"""The leaderboard page: a GET form of filters; htmx swaps only the results partial."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.safestring import mark_safe

from arena.views.requests import HtmxRequest
from arena.views.snapshot_page import snapshot_page
from reports import svg
from reports.selectors.leaderboards import LeaderboardParams, filter_choices, matrices_in_rank_order


def leaderboard(request: HtmxRequest) -> HttpResponse:
    def decorate(result: dict[str, Any], context: dict[str, Any]) -> None:
        models, win_rate, counts = matrices_in_rank_order(result)
        rows = result.get("rows") or []
        context.update(
            rows=rows,
            ranked_rows=[r for r in rows if not r.get("provisional")],
            provisional_rows=[r for r in rows if r.get("provisional")],
            style_coefficients=result.get("style_coefficients"),
            notes=result.get("notes") or [],
            ratings_svg=mark_safe(svg.ratings_chart(result.get("rows") or [])),  # noqa: S308 - escaped in reports.svg
            heatmap_svg=mark_safe(svg.win_rate_heatmap(models, win_rate, counts)),  # noqa: S308
        )

    prompt_set = request.GET.get("prompt_set")
    context = {
        "choices": filter_choices(prompt_set if isinstance(prompt_set, str) else None),
        "query": request.GET,
    }
    return snapshot_page(request, "arena/leaderboard.html", context, LeaderboardParams, decorate)
