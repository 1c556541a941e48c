"""The rating page: lease a comparison, vote on it, see the reveal, go on to the next.

Full pages for a normal request, the ``panel`` partial of the same template for htmx requests.
Nothing rendered before the vote holds a model name or an answer id: the page knows only the
assignment id.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from arena.models import Assignment, PromptSet, Vote
from arena.selectors.queue import comparison_view_for
from arena.selectors.raters import prompt_sets_to_rate, rater_progress_get, rater_votes_list
from arena.services.votes import VoteRejected, assignment_lease, assignment_skip, vote_rate_allow, vote_submit

TEMPLATE = "arena/rate.html"
HHH_ROWS = [("helpful", "H"), ("honest", "J"), ("harmless", "K")]


def _prompt_set_or_404(slug: str | None) -> str | None:
    if slug and not PromptSet.objects.filter(slug=slug).exists():
        raise Http404("No such prompt set.")
    return slug or None


def _panel(request: HttpRequest, *, prompt_set: str | None, assignment: Assignment | None = None,
           vote: Vote | None = None, status: int = 200) -> HttpResponse:
    """The panel (or the page) for ``assignment``, which the services load with everything the
    view shows (``VIEW_RELATED``), so rendering it costs no further query."""
    context = {
        "view": comparison_view_for(assignment=assignment, vote=vote) if assignment else None,
        "progress": rater_progress_get(rater=request.user, prompt_set=prompt_set),
        "prompt_set": prompt_set,
        "hhh_rows": HHH_ROWS,
        "prompt_sets": prompt_sets_to_rate,  # called only by the full page, not the htmx panel
    }
    template = f"{TEMPLATE}#panel" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


def _rejected(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, f"{TEMPLATE}#messages", {"message": message}, status=status)


@login_required
@require_GET
def rate(request: HttpRequest, prompt_set: str | None = None) -> HttpResponse:
    prompt_set = _prompt_set_or_404(prompt_set)
    assignment = assignment_lease(rater=request.user, prompt_set=prompt_set)
    return _panel(request, prompt_set=prompt_set, assignment=assignment)


def _set_from_post(request: HttpRequest) -> str | None:
    slug = request.POST.get("set", "")
    return slug if slug and PromptSet.objects.filter(slug=slug).exists() else None


@login_required
@require_POST
def vote(request: HttpRequest, assignment_id: int) -> HttpResponse:
    post = request.POST
    try:
        if not vote_rate_allow(rater=request.user):
            return _rejected(request, "You are voting faster than the limit allows; wait a minute and submit again.", 429)
        result = vote_submit(
            rater=request.user, assignment_id=assignment_id, choice=post.get("choice", ""),
            grade_a=post.get("grade_a", ""), grade_b=post.get("grade_b", ""),
            helpful=post.get("helpful", ""), honest=post.get("honest", ""), harmless=post.get("harmless", ""),
            comment=post.get("comment", ""),
        )
    except VoteRejected as rejected:
        return _rejected(request, rejected.message, rejected.status)
    return _panel(request, prompt_set=_set_from_post(request), assignment=result.assignment, vote=result.vote)


@login_required
@require_POST
def skip(request: HttpRequest, assignment_id: int) -> HttpResponse:
    try:
        assignment_skip(rater=request.user, assignment_id=assignment_id, reason=request.POST.get("reason", ""))
    except VoteRejected as rejected:
        return _rejected(request, rejected.message, rejected.status)
    prompt_set = _set_from_post(request)
    if not request.htmx:
        target = f"/rate/{prompt_set}/" if prompt_set else "/rate/"
        return redirect(target if url_has_allowed_host_and_scheme(target, None) else "/rate/")
    nxt = assignment_lease(rater=request.user, prompt_set=prompt_set)
    return _panel(request, prompt_set=prompt_set, assignment=nxt)


@require_GET
def guidelines(request: HttpRequest) -> HttpResponse:
    return render(request, "arena/guidelines.html")


@login_required
@require_GET
def my_votes(request: HttpRequest) -> HttpResponse:
    return render(request, "arena/rate_mine.html", {"votes": rater_votes_list(rater=request.user)})


def bench_bare(request: HttpRequest) -> HttpResponse:
    """The floor for benchmarks/bench_vote.py: the full middleware stack, no work (ARENA_BENCH_VIEWS=1)."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def bench_signed_in(request: HttpRequest) -> HttpResponse:
    """The floor of any rating request in benchmarks/bench_vote.py: a signed-in rater's session
    and user loaded, no other work (ARENA_BENCH_VIEWS=1)."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")
