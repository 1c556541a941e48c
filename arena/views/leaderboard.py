"""The leaderboard page: a GET form of filters; htmx swaps only the results partial."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from arena import svg
from arena.selectors.leaderboards import (
    LeaderboardParams,
    ParamError,
    filter_choices,
    matrices_in_rank_order,
)
from arena.services.snapshots import snapshot_get_or_schedule

PAGE_FIELDS = ("source", "prompt_set", "category", "turn", "method", "style_control")


def leaderboard(request: HttpRequest) -> HttpResponse:
    query = {k: v for k, v in request.GET.items() if k in PAGE_FIELDS}
    context: dict = {"choices": filter_choices(), "query": query}
    try:
        params = LeaderboardParams.from_query(query)
    except ParamError as exc:
        context["error"] = exc
        return render(request, "arena/leaderboard.html", context, status=400)
    snapshot = snapshot_get_or_schedule(params=params)
    context.update(params=params, snapshot=snapshot)
    if not snapshot.computing:
        result = snapshot.result or {}
        models, win_rate, counts = matrices_in_rank_order(result)
        context.update(
            rows=result.get("rows") or [],
            style_coefficients=result.get("style_coefficients"),
            notes=result.get("notes") or [],
            ratings_svg=mark_safe(svg.ratings_chart(result.get("rows") or [])),  # noqa: S308 - escaped in arena.svg
            heatmap_svg=mark_safe(svg.win_rate_heatmap(models, win_rate, counts)),  # noqa: S308
        )
    template = "arena/leaderboard.html#results" if request.htmx else "arena/leaderboard.html"
    return render(request, template, context)
