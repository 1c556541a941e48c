"""Leasing comparisons to raters, recording their votes and skips.

A rater's choices arrive in *screen* terms — "A" is the answer shown on the left — and are
stored in *comparison* terms (``model_a`` = ``comparison.answer_a``) using the assignment's
``a_shown_first``, through ``arena.sides`` (which live battles and judge verdicts use too).

A vote is idempotent per assignment: the assignment row is locked, so a double click, a retried
request or a second tab waits for the first submission and then gets the same stored vote back
(``created=False``; the page tells the rater what was stored). A rater changes a vote only
through ``vote_change``, within ``ARENA_VOTE_EDIT_SECONDS``: the ``Vote`` row keeps the latest
version and each version it replaces is kept as a ``VoteRevision``.
"""

from __future__ import annotations

import random
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from arena.limits import LocalRateLimiter, RateLimiter
from arena.models import Assignment, Comparison, Prompt, PromptSet, RaterPreference, Vote, VoteRevision
from arena.redis_clients import RedisUnavailable, breaker, unavailable_errors, web_redis
from arena.selectors.queue import comparison_next_for_rater
from arena.selectors.raters import rater_one_click_forget, vote_edit_deadline
from arena.sides import comparison_side

CHOICES = {"A", "B", "tie", "both_bad"}
GRADES = {"", "A", "B", "C", "D"}
HHH = {"", "A", "B", "same"}


class VoteRejected(Exception):
    """The vote cannot be taken; ``status`` is the HTTP status a view should answer with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VoteResult:
    vote: Vote
    assignment: Assignment
    created: bool


@transaction.atomic
def assignment_lease(
    *,
    rater: User,
    prompt_set: str | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Assignment | None:
    """The rater's current lease, or a new one on the next open comparison; None if none is open.

    A reload shows the same comparison with the same sides until the lease lapses. A lapsed lease
    keeps status ``leased`` with ``expires_at`` in the past: the queue goes by the clock, so
    nothing has to sweep leases for the comparison to return to the pool.
    """
    now = now or timezone.now()
    held = _held_lease(rater=rater, prompt_set=prompt_set, now=now)
    if held is not None:
        return held
    comparison = comparison_next_for_rater(rater=rater, prompt_set=prompt_set, now=now, rng=rng)
    if comparison is None:
        return None
    expires = now + timedelta(seconds=settings.ARENA_LEASE_SECONDS)
    own = getattr(comparison, "own_assignment_id", None)
    if own is not None:  # the rater's own lapsed lease on it: same sides again, fresh clock
        Assignment.objects.filter(pk=own).update(
            status=Assignment.Status.LEASED, leased_at=now, expires_at=expires
        )
        return Assignment.objects.get(pk=own)
    # Which answer sits left is decided per assignment, unpredictably, and stored.
    return Assignment.objects.create(
        rater=rater, comparison=comparison, a_shown_first=bool(secrets.randbits(1)), expires_at=expires
    )


_HELD = (
    "SELECT {columns} FROM {assignment} a WHERE a.rater_id = %s AND a.status = %s AND a.expires_at > %s{in_set} "
    "ORDER BY a.leased_at DESC LIMIT 1"
)
_HELD_IN_SET = (
    " AND a.comparison_id IN (SELECT c.id FROM {comparison} c JOIN {prompt} p ON p.id = c.prompt_id "
    "JOIN {prompt_set} s ON s.id = p.prompt_set_id WHERE s.slug = %s)"
)


def _held_lease(*, rater: User, prompt_set: str | None, now: datetime) -> Assignment | None:
    """The rater's live lease (in ``prompt_set`` if given), newest first. Written out: it runs on
    every rating request, and the ORM spent more CPU building it than PostgreSQL running it."""
    sql = _HELD.format(
        columns=", ".join(f"a.{f.column}" for f in Assignment._meta.concrete_fields),
        assignment=Assignment._meta.db_table,
        in_set=_HELD_IN_SET.format(
            comparison=Comparison._meta.db_table,
            prompt=Prompt._meta.db_table,
            prompt_set=PromptSet._meta.db_table,
        )
        if prompt_set
        else "",
    )
    params = (
        rater.pk,
        Assignment.Status.LEASED.value,
        connection.ops.adapt_datetimefield_value(now),
        *((prompt_set,) if prompt_set else ()),
    )
    return next(iter(Assignment.objects.raw(sql, params)), None)


def _side(value: str, a_shown_first: bool) -> str:
    """Screen label ("A" = left) → comparison term (model_a/model_b); other values pass through."""
    if value in ("A", "B"):
        return comparison_side(value == "A", a_shown_first=a_shown_first)
    return value


# What a vote says, in comparison terms: the fields a change may replace and a revision keeps.
VERDICT_FIELDS = ("winner", "grade_a", "grade_b", "helpful", "honest", "harmless", "comment")


def _stored_verdict(
    a_shown_first: bool,
    *,
    choice: str,
    grade_left: str,
    grade_right: str,
    hhh: tuple[str, str, str],
    comment: str,
) -> dict[str, str]:
    """A verdict given in screen terms, as the vote's fields store it (``VERDICT_FIELDS``)."""
    helpful, honest, harmless = (_side(value, a_shown_first) for value in hhh)
    return {
        "winner": _side(choice, a_shown_first),
        "grade_a": grade_left if a_shown_first else grade_right,
        "grade_b": grade_right if a_shown_first else grade_left,
        "helpful": helpful,
        "honest": honest,
        "harmless": harmless,
        "comment": comment.strip()[:5000],
    }


_LOCKED = "SELECT {columns} FROM {assignment} a WHERE a.id = %s{lock}"
_COUNT_VOTE = "UPDATE {comparison} SET vote_count = vote_count + 1 WHERE id = %s"
_SET_STATUS = "UPDATE {assignment} SET status = %s WHERE id = %s"


def _locked_assignment(*, rater: User, assignment_id: int) -> Assignment:
    """The assignment, its row locked until the transaction ends (FOR UPDATE where the database
    has it): a double submit waits here for the first one."""
    sql = _LOCKED.format(
        columns=", ".join(f"a.{f.column}" for f in Assignment._meta.concrete_fields),
        assignment=Assignment._meta.db_table,
        lock=" FOR UPDATE" if connection.features.has_select_for_update else "",
    )
    assignment = next(iter(Assignment.objects.raw(sql, (assignment_id,))), None)
    if assignment is None or assignment.rater_id != rater.pk:
        raise VoteRejected("This comparison was not given to you; open /rate/ to get one.", status=403)
    return assignment


def _lease_still_good(assignment: Assignment, *, now: datetime) -> bool:
    """A lapsed lease may still vote if the comparison has room for it (nobody took its place)."""
    if assignment.status == Assignment.Status.LEASED and assignment.expires_at > now:
        return True
    comparison = Comparison.objects.select_for_update().get(pk=assignment.comparison_id)
    if comparison.is_gold:
        return True
    target = comparison.target_votes or settings.ARENA_TARGET_VOTES
    others = (
        Assignment.objects.filter(comparison=comparison, status=Assignment.Status.LEASED, expires_at__gt=now)
        .exclude(pk=assignment.pk)
        .count()
    )
    return comparison.vote_count + others < target


def _check_verdict(*, choice: str, grades: tuple[str, str], hhh: tuple[str, str, str]) -> None:
    if choice not in CHOICES:
        raise VoteRejected("Choose one of: A is better, B is better, Tie, Both are bad.", status=400)
    if not set(grades) <= GRADES:
        raise VoteRejected("Grades are A, B, C or D.", status=400)
    if not set(hhh) <= HHH:
        raise VoteRejected("Helpful, honest and harmless take A, B or the same.", status=400)


@transaction.atomic
def vote_submit(
    *,
    rater: User,
    assignment_id: int,
    choice: str,
    grade_a: str = "",
    grade_b: str = "",
    helpful: str = "",
    honest: str = "",
    harmless: str = "",
    comment: str = "",
    now: datetime | None = None,
) -> VoteResult:
    """Record the rater's vote on their assignment, in screen terms (A = left, B = right).

    Submitting again returns the stored vote unchanged (``created=False``).
    """
    now = now or timezone.now()
    _check_verdict(choice=choice, grades=(grade_a, grade_b), hhh=(helpful, honest, harmless))
    assignment = _locked_assignment(rater=rater, assignment_id=assignment_id)
    if assignment.status == Assignment.Status.VOTED:
        return VoteResult(Vote.objects.get(assignment=assignment), assignment, created=False)
    if assignment.status == Assignment.Status.SKIPPED:
        raise VoteRejected("You skipped this comparison; it can no longer be voted on.", status=409)
    if not _lease_still_good(assignment, now=now):
        raise VoteRejected(
            "Your time on this comparison ran out and it went to another rater. Your vote was not stored.",
            status=409,
        )
    first = assignment.a_shown_first
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                rater=rater,
                comparison_id=assignment.comparison_id,
                assignment=assignment,
                a_shown_first=first,
                seconds_spent=max((now - assignment.leased_at).total_seconds(), 0.0),
                **_stored_verdict(
                    first,
                    choice=choice,
                    grade_left=grade_a,
                    grade_right=grade_b,
                    hhh=(helpful, honest, harmless),
                    comment=comment,
                ),
            )
    except IntegrityError:
        # A vote on this comparison by this rater exists without this assignment (e.g. entered
        # in the admin): keep that one.
        existing = Vote.objects.get(rater=rater, comparison_id=assignment.comparison_id)
        return VoteResult(existing, assignment, created=False)
    with connection.cursor() as cursor:  # two fixed statements: cheaper written out than built
        cursor.execute(_COUNT_VOTE.format(comparison=Comparison._meta.db_table), (assignment.comparison_id,))
        cursor.execute(
            _SET_STATUS.format(assignment=Assignment._meta.db_table),
            (Assignment.Status.VOTED.value, assignment.pk),
        )
    assignment.status = Assignment.Status.VOTED
    return VoteResult(vote, assignment, created=True)


@transaction.atomic
def vote_change(
    *,
    rater: User,
    vote_id: int,
    version: int,
    choice: str,
    grade_a: str = "",
    grade_b: str = "",
    helpful: str = "",
    honest: str = "",
    harmless: str = "",
    comment: str = "",
    now: datetime | None = None,
) -> Vote:
    """Replace the rater's own vote with a new version, in screen terms (A = left), within
    ``ARENA_VOTE_EDIT_SECONDS`` of casting it. The version replaced is kept as a
    ``VoteRevision``; ratings read the ``Vote`` row, i.e. the latest version.

    ``version`` is the version the rater was looking at: if the vote changed since (another tab),
    the change is refused rather than silently overwriting it. Unchanged fields store nothing.
    """
    now = now or timezone.now()
    _check_verdict(choice=choice, grades=(grade_a, grade_b), hhh=(helpful, honest, harmless))
    vote = Vote.objects.select_for_update().filter(pk=vote_id, rater=rater).first()
    if vote is None:
        raise VoteRejected("This is not one of your votes.", status=404)
    if now > vote_edit_deadline(vote.created_at):
        minutes = settings.ARENA_VOTE_EDIT_SECONDS // 60
        raise VoteRejected(
            f"A vote can be changed for {minutes} minutes after it is cast; this one no longer can.",
            status=409,
        )
    if version != vote.version:
        raise VoteRejected(
            "This vote was changed in another tab or window since you opened it; "
            "reload to see what is stored, then change it again.",
            status=409,
        )
    new = _stored_verdict(
        vote.a_shown_first,
        choice=choice,
        grade_left=grade_a,
        grade_right=grade_b,
        hhh=(helpful, honest, harmless),
        comment=comment,
    )
    if all(getattr(vote, name) == value for name, value in new.items()):
        return vote
    VoteRevision.objects.create(
        vote=vote,
        version=vote.version,
        recorded_at=vote.changed_at or vote.created_at,
        replaced_at=now,
        **{name: getattr(vote, name) for name in VERDICT_FIELDS},
    )
    for name, value in new.items():
        setattr(vote, name, value)
    vote.version += 1
    vote.changed_at = now
    vote.save(update_fields=[*VERDICT_FIELDS, "version", "changed_at"])  # post_save refreshes the ratings
    return vote


def rater_one_click_set(*, rater: User, one_click: bool) -> None:
    """Remember whether this rater's verdict buttons submit at once."""
    RaterPreference.objects.update_or_create(rater=rater, defaults={"one_click": one_click})
    rater_one_click_forget(rater=rater)


@transaction.atomic
def assignment_skip(*, rater: User, assignment_id: int, reason: str) -> Assignment:
    """The rater passes on this comparison; it returns to the pool for others."""
    reason = reason.strip()
    if not reason:
        raise VoteRejected("Say why you skip (e.g. 'I cannot judge code in this language').", status=400)
    assignment = _locked_assignment(rater=rater, assignment_id=assignment_id)
    if assignment.status == Assignment.Status.VOTED:
        raise VoteRejected("You already voted on this comparison.", status=409)
    if assignment.status != Assignment.Status.SKIPPED:
        assignment.status = Assignment.Status.SKIPPED
        assignment.skip_reason = reason[:500]
        assignment.save(update_fields=["status", "skip_reason"])
    return assignment


# The vote limit's window: ARENA_VOTE_RATE_LIMIT votes in any VOTE_RATE_WINDOW_SECONDS.
VOTE_RATE_WINDOW_SECONDS = 60.0
_local_vote_limits: dict[int, LocalRateLimiter] = {}
_local_vote_limits_lock = threading.Lock()


def vote_rate_allow(*, rater: User) -> bool:
    """Count one vote attempt against the rater's budget: at most ARENA_VOTE_RATE_LIMIT in any
    sliding window of a minute (a fixed per-minute counter let twice the limit through across a
    minute boundary). False: too fast.

    With REDIS_URL the log is kept in Redis, one atomic script per attempt, so it holds across
    every web process; without it, in this process. Fails closed: when Redis is unavailable the
    vote is refused with a 503 (``VoteRejected``) rather than let through unlimited.
    """
    limit = settings.ARENA_VOTE_RATE_LIMIT
    if not settings.REDIS_URL:
        return _local_vote_limit(rater.pk, limit).try_acquire() == 0
    unavailable: tuple[type[Exception], ...] = (RedisUnavailable, *unavailable_errors())
    try:
        limiter = RateLimiter(
            web_redis(), f"arena:vote-rate:{rater.pk}", limit, window_seconds=VOTE_RATE_WINDOW_SECONDS
        )
        return limiter.try_acquire() == 0
    except unavailable as error:
        if not isinstance(error, RedisUnavailable):
            breaker.trip(error)
        raise VoteRejected(
            "Voting is paused for a moment: the vote limiter cannot be reached. Your vote was not stored; "
            "submit it again in a minute.",
            status=503,
        ) from error


def _local_vote_limit(rater_id: int, limit: int) -> LocalRateLimiter:
    with _local_vote_limits_lock:
        limiter = _local_vote_limits.get(rater_id)
        if limiter is None or limiter.limit != limit or limiter.window_seconds != VOTE_RATE_WINDOW_SECONDS:
            if len(_local_vote_limits) > 10_000:  # raters who stopped voting need no log
                for idle in [k for k, v in _local_vote_limits.items() if v.idle()]:
                    del _local_vote_limits[idle]
            limiter = _local_vote_limits[rater_id] = LocalRateLimiter(
                limit, window_seconds=VOTE_RATE_WINDOW_SECONDS, clock=lambda: timezone.now().timestamp()
            )
        return limiter
