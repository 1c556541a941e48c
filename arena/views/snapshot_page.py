"""What the leaderboard, bias, agreement and evaluation report pages share: read the parameters through the one
parameter layer, read (or, when allowed, compute) the snapshot, render the page or its results
partial for htmx.

Bad parameters: 400 with every bad one named. A view nobody computed that this visitor may not
start (anonymous requests never create work): 403 with a link to the nearest canonical view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from arena.params import ParamError, QueryReader
from arena.views.requests import HtmxRequest
from reports.selectors.leaderboards import ReportParams
from reports.services.snapshots import SnapshotNotAvailable, snapshot_read


def snapshot_page(
    request: HtmxRequest,
    template: str,
    context: dict[str, Any],
    params_class: type[ReportParams],
    decorate: Callable[[dict[str, Any], dict[str, Any]], None],
    **defaults: Any,
) -> HttpResponse:
    response = _snapshot_page(request, template, context, params_class, decorate, **defaults)
    # The same URL answers a whole page or, for htmx, its results: a browser's cache must keep
    # them apart, or Back from another page shows the bare results (django-htmx's advice).
    patch_vary_headers(response, ("HX-Request",))
    return response


def _snapshot_page(
    request: HtmxRequest,
    template: str,
    context: dict[str, Any],
    params_class: type[ReportParams],
    decorate: Callable[[dict[str, Any], dict[str, Any]], None],
    **defaults: Any,
) -> HttpResponse:
    reader = QueryReader(request.GET, allowed=params_class.names())
    context.setdefault("query", request.GET)  # what the URL set (hidden inputs keep it across filter changes)
    # With bad values replaced by their defaults: the form shows what can be kept.
    params = context["params"] = params_class.read(reader, **defaults)
    # htmx asks for the whole page when its history cache misses on Back: not just the partial.
    partial = request.htmx and not request.htmx.history_restore_request
    chosen = f"{template}#results" if partial else template
    try:
        reader.finish()
    except ParamError as exc:
        context["error"] = exc
        return render(request, chosen, context, status=400)
    try:
        snapshot = snapshot_read(params=params, may_create=request.user.is_staff)
    except SnapshotNotAvailable as exc:
        context["unavailable"] = exc
        return render(request, chosen, context, status=403)
    context["snapshot"] = snapshot
    if not snapshot.computing:
        decorate(snapshot.result or {}, context)
    return render(request, chosen, context)
