"""The rating page: lease a comparison, vote on it, see the reveal, go on to the next.

Full pages for a normal request, the ``panel`` partial of the same template for htmx requests.
Nothing rendered before the vote holds a model name or an answer id: the page knows only the
assignment id.
"""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arena.models import Assignment, PromptSet, Vote
from arena.selectors.queue import CHOICE_LABELS, comparison_view_for, vote_seen_as
from arena.selectors.raters import (
    prompt_sets_to_rate,
    rater_one_click_get,
    rater_progress_get,
    rater_vote_get,
    rater_votes_list,
    vote_edit_deadline,
)
from arena.selectors.training import reveal_training_get
from arena.services.votes import (
    VoteRejected,
    assignment_lease,
    assignment_skip,
    rater_one_click_set,
    vote_change,
    vote_rate_allow,
    vote_submit,
)
from arena.views.requests import SignedInRequest

TEMPLATE = "arena/rate.html"
HHH_ROWS = [("helpful", "H"), ("honest", "J"), ("harmless", "K")]
# (value, label, key) of the four verdicts, and (screen side, field, keys A–D) of the two grades.
CHOICE_ROWS = [(value, label, str(key)) for key, (value, label) in enumerate(CHOICE_LABELS.items(), start=1)]
GRADE_ROWS = [
    ("A", "grade_a", "grade_left", list(zip("ABCD", "QWER", strict=True))),
    ("B", "grade_b", "grade_right", list(zip("ABCD", "UIOP", strict=True))),
]
FORM_ROWS = {"hhh_rows": HHH_ROWS, "choice_rows": CHOICE_ROWS, "grade_rows": GRADE_ROWS}


def _prompt_set_or_404(slug: str | None) -> str | None:
    if slug and not PromptSet.objects.filter(slug=slug).exists():
        raise Http404("No such prompt set.")
    return slug or None


def _panel(
    request: SignedInRequest,
    *,
    prompt_set: str | None,
    assignment: Assignment | None = None,
    vote: Vote | None = None,
    status: int = 200,
    already_voted: str = "",
) -> HttpResponse:
    """The panel (or the page) for ``assignment``, which the services load with everything the
    view shows (``VIEW_RELATED``), so rendering it costs no further query.

    ``already_voted``: the verdict this request tried to store on a comparison that had a vote
    already (a second tab): the page says so and shows the stored one."""
    view = comparison_view_for(assignment=assignment, vote=vote) if assignment else None
    revealed = view is not None and view.reveal is not None
    context = {
        **FORM_ROWS,
        "view": view,
        "progress": rater_progress_get(rater=request.user, prompt_set=prompt_set),
        "prompt_set": prompt_set,
        "prompt_sets": prompt_sets_to_rate,  # called only by the full page, not the htmx panel
        "one_click": rater_one_click_get(rater=request.user),
        "one_click_choosable": settings.ARENA_ONE_CLICK_VOTING != "off",
        "changeable": vote is not None and timezone.now() <= vote_edit_deadline(vote.created_at),
        "already_voted": CHOICE_LABELS.get(already_voted, ""),
        "training": (
            reveal_training_get(
                comparison_id=assignment.comparison_id, a_shown_first=assignment.a_shown_first
            )
            if revealed and assignment and settings.ARENA_REVEAL_TRAINING
            else None
        ),
    }
    template = f"{TEMPLATE}#panel" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


def _rejected(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, f"{TEMPLATE}#messages", {"message": message}, status=status)


@login_required
@require_GET
def rate(request: SignedInRequest, prompt_set: str | None = None) -> HttpResponse:
    prompt_set = _prompt_set_or_404(prompt_set)
    assignment = assignment_lease(rater=request.user, prompt_set=prompt_set)
    return _panel(request, prompt_set=prompt_set, assignment=assignment)


def _set_from_post(request: HttpRequest) -> str | None:
    slug = request.POST.get("set", "")
    return slug if slug and PromptSet.objects.filter(slug=slug).exists() else None


class _Verdict(TypedDict):
    choice: str
    grade_a: str
    grade_b: str
    helpful: str
    honest: str
    harmless: str
    comment: str


def _verdict_from_post(request: HttpRequest) -> _Verdict:
    """The verdict fields of a vote or a change, in screen terms, as the services take them."""
    post = request.POST
    return _Verdict(
        choice=post.get("choice", ""),
        grade_a=post.get("grade_a", ""),
        grade_b=post.get("grade_b", ""),
        helpful=post.get("helpful", ""),
        honest=post.get("honest", ""),
        harmless=post.get("harmless", ""),
        comment=post.get("comment", ""),
    )


@login_required
@require_POST
def vote(request: SignedInRequest, assignment_id: int) -> HttpResponse:
    verdict = _verdict_from_post(request)
    try:
        if not vote_rate_allow(rater=request.user):
            return _rejected(
                request, "You are voting faster than the limit allows; wait a minute and submit again.", 429
            )
        result = vote_submit(rater=request.user, assignment_id=assignment_id, **verdict)
    except VoteRejected as rejected:
        return _rejected(request, rejected.message, rejected.status)
    return _panel(
        request,
        prompt_set=_set_from_post(request),
        assignment=result.assignment,
        vote=result.vote,
        already_voted="" if result.created else verdict["choice"],
    )


@login_required
@require_POST
def skip(request: SignedInRequest, assignment_id: int) -> HttpResponse:
    try:
        assignment_skip(
            rater=request.user, assignment_id=assignment_id, reason=request.POST.get("reason", "")
        )
    except VoteRejected as rejected:
        return _rejected(request, rejected.message, rejected.status)
    prompt_set = _set_from_post(request)
    if not request.htmx:
        target = f"/rate/{prompt_set}/" if prompt_set else "/rate/"
        return redirect(target if url_has_allowed_host_and_scheme(target, None) else "/rate/")
    nxt = assignment_lease(rater=request.user, prompt_set=prompt_set)
    return _panel(request, prompt_set=prompt_set, assignment=nxt)


@login_required
@require_POST
def preferences(request: SignedInRequest) -> HttpResponse:
    """The rater switches one-click voting on or off; back to the page they came from."""
    one_click = request.POST.get("one_click", "")
    if one_click not in ("0", "1"):
        return HttpResponse(
            "one_click: 1 (the verdict buttons submit at once) or 0 (the two-step form).",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if settings.ARENA_ONE_CLICK_VOTING != "off":
        rater_one_click_set(rater=request.user, one_click=one_click == "1")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/rate/"
    return redirect(target)


@require_GET
def guidelines(request: HttpRequest) -> HttpResponse:
    return render(request, "arena/guidelines.html")


@login_required
@require_GET
def my_votes(request: SignedInRequest) -> HttpResponse:
    return render(
        request,
        "arena/rate_mine.html",
        {
            "votes": rater_votes_list(rater=request.user),
            "edit_minutes": settings.ARENA_VOTE_EDIT_SECONDS // 60,
        },
    )


def _version_from_post(request: HttpRequest) -> int:
    """The version of the vote the rater's form showed."""
    value = request.POST.get("version", "")
    if not value.isdigit():
        raise VoteRejected("version: the version of the vote the form showed, a whole number.", status=400)
    return int(value)


@login_required
@require_http_methods(["GET", "POST"])
def my_vote(request: SignedInRequest, vote_id: int) -> HttpResponse:
    """One of the rater's votes as they saw it, and the form that changes it within the window.

    The rating page's "add details" form after a one-click vote posts here too (htmx): the
    answer is then the rating panel with the vote's new version."""
    mine = rater_vote_get(rater=request.user, vote_id=vote_id)
    if mine is None:
        raise Http404("No such vote of yours.")
    error, status = "", 200
    if request.method == "POST":
        try:
            changed = vote_change(
                rater=request.user,
                vote_id=vote_id,
                version=_version_from_post(request),
                **_verdict_from_post(request),
            )
        except VoteRejected as rejected:
            if request.htmx:
                return _rejected(request, rejected.message, rejected.status)
            error, status = rejected.message, rejected.status
        else:
            if request.htmx:
                return _panel(
                    request,
                    prompt_set=_set_from_post(request),
                    assignment=vote_seen_as(changed),
                    vote=changed,
                )
            messages.success(request, f"Your vote is now: {CHOICE_LABELS[request.POST['choice']]}.")
            return redirect(f"{reverse('rate_mine')}#vote-{vote_id}")
    vote_row = Vote.objects.get(pk=vote_id)
    return render(
        request,
        "arena/rate_vote.html",
        {
            **FORM_ROWS,
            "mine": mine,
            "view": comparison_view_for(assignment=vote_seen_as(vote_row), vote=vote_row),
            "error": error,
            "edit_minutes": settings.ARENA_VOTE_EDIT_SECONDS // 60,
        },
        status=status,
    )
