"""Staff pages about raters: quality figures and invite links."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from arena.models import RaterPool
from arena.selectors.raters import rater_stats_list
from arena.services.raters import rater_invite_create
from arena.views.permissions import staff_required


def _page(request: HttpRequest, invite_url: str | None = None) -> HttpResponse:
    return render(request, "arena/staff_raters.html", {
        "stats": rater_stats_list(), "pools": RaterPool.objects.order_by("name"), "invite_url": invite_url,
    })


@staff_required
@require_GET
def raters(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    pool_id = request.POST.get("pool")
    pool = get_object_or_404(RaterPool, pk=pool_id) if pool_id else None
    token = rater_invite_create(pool=pool, created_by=request.user)
    url = request.build_absolute_uri(reverse("signup")) + "?invite=" + token
    return _page(request, invite_url=url)
