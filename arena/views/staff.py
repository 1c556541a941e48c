"""Staff pages about raters: quality figures and invite links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from arena.models import RaterPool, Vote
from arena.selectors.raters import rater_invites_list, rater_stats_list
from arena.services.raters import INVITE_MAX_USES, rater_invite_create, rater_invite_revoke
from arena.views.permissions import staff_required
from arena.views.requests import SignedInRequest
from reports.selectors.leaderboards import LeaderboardParams
from reports.selectors.rater_checks import rater_check_get, rater_check_schedule
from reports.services.snapshots import snapshot_read


def _boards() -> list[dict[str, Any]]:
    """The human leaderboard with and without the flagged raters (staff may start both)."""
    boards = []
    for quality, label in (("clean", "Without flagged raters (clean)"), ("all", "With every rater (all)")):
        params = LeaderboardParams.from_query({"source": "human", "rater_quality": quality})
        snapshot = snapshot_read(params=params, may_create=True)
        boards.append(
            {
                "quality": quality,
                "label": label,
                "snapshot": snapshot,
                "params": params,
                "rows": (snapshot.result or {}).get("rows") or [],
                "error": (snapshot.result or {}).get("error"),
            }
        )
    return boards


def _page(
    request: HttpRequest, *, invite_url: str | None = None, invite_error: str | None = None, status: int = 200
) -> HttpResponse:
    rater_check_schedule()  # computed now over small data, else by a worker: the page never waits
    has_votes = Vote.objects.exists()
    return render(
        request,
        "arena/staff_raters.html",
        {
            "stats": rater_stats_list(),
            "pools": RaterPool.objects.order_by("name"),
            "invite_url": invite_url,
            "invites": rater_invites_list(),
            "invite_error": invite_error,
            "max_uses": INVITE_MAX_USES,
            "check": rater_check_get(),
            "boards": _boards() if has_votes else [],
            "has_votes": has_votes,
        },
        status=status,
    )


@staff_required
@require_GET
def raters(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_required
@require_POST
def invite(request: SignedInRequest) -> HttpResponse:
    pool_id = request.POST.get("pool")
    pool = get_object_or_404(RaterPool, pk=pool_id) if pool_id else None
    raw_uses = request.POST.get("uses", "").strip() or "1"
    if not raw_uses.isdigit() or not 1 <= int(raw_uses) <= INVITE_MAX_USES:
        return _page(
            request,
            status=400,
            invite_error=f"uses: a whole number from 1 to {INVITE_MAX_USES}, not {raw_uses[:20]!r}.",
        )
    token = rater_invite_create(pool=pool, created_by=request.user, uses=int(raw_uses))
    url = request.build_absolute_uri(reverse("signup")) + "?invite=" + token
    return _page(request, invite_url=url)


@staff_required
@require_POST
def invite_revoke(request: HttpRequest, invite_id: int) -> HttpResponse:
    rater_invite_revoke(invite_id=invite_id)
    return redirect("staff_raters")
