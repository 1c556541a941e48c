"""Views only benchmarks/bench_vote.py requests, at ``/bench/``: included by arena/urls.py only when
ARENA_BENCH_VIEWS=1 (the script's server sets it), so a normal deployment does not route them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path


def bench_bare(request: HttpRequest) -> HttpResponse:
    """The floor: the full middleware stack, no work."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def bench_signed_in(request: HttpRequest) -> HttpResponse:
    """The floor of any rating request: a signed-in rater's session and user loaded, no other work."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


urlpatterns = [
    path("bare/", bench_bare, name="bench_bare"),
    path("signed-in/", bench_signed_in, name="bench_signed_in"),
]
