"""What raters and staff read about rating: a rater's own progress and votes, staff statistics."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from arena.models import (
    Assignment,
    Comparison,
    Invite,
    Prompt,
    PromptSet,
    RaterPreference,
    Vote,
    VoteRevision,
)
from arena.selectors.queue import Reveal, vote_reveal


@dataclass(frozen=True)
class Progress:
    today: int
    daily_target: int
    in_set: int
    set_total: int
    prompt_set: str | None


_VOTES_TODAY_AND_IN_SET = (
    "SELECT COUNT(CASE WHEN v.created_at >= %s THEN 1 END), {in_set} FROM {vote} v WHERE v.rater_id = %s"
)
_IN_SET = (
    "COUNT(CASE WHEN v.comparison_id IN (SELECT c.id FROM {comparison} c JOIN {prompt} p ON p.id = c.prompt_id "
    "JOIN {prompt_set} s ON s.id = p.prompt_set_id WHERE s.slug = %s) THEN 1 END)"
)


RATING_SETS_CACHE_SECONDS = 60
_SETS_TO_RATE_KEY = "arena:prompt-sets-to-rate:v2"  # v2: (slug, name) pairs


def _set_size_key(prompt_set: str | None) -> str:
    return f"arena:comparisons-in-set:{prompt_set or '*'}"


def rater_progress_get(
    *, rater: User, prompt_set: str | None = None, now: datetime | None = None
) -> Progress:
    """Votes today (server time zone), votes in this set and how many comparisons it has.

    One statement for the rater's counts (written out: it runs on every rating request, and
    building it with the ORM cost more CPU than the database spends on it); the set's size is
    cached for a minute."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    sql = _VOTES_TODAY_AND_IN_SET.format(
        vote=Vote._meta.db_table,
        in_set=_IN_SET.format(
            comparison=Comparison._meta.db_table,
            prompt=Prompt._meta.db_table,
            prompt_set=PromptSet._meta.db_table,
        )
        if prompt_set
        else "COUNT(*)",
    )
    params = (
        connection.ops.adapt_datetimefield_value(start),
        *((prompt_set,) if prompt_set else ()),
        rater.pk,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        today, in_set = cursor.fetchone()
    total_key = _set_size_key(prompt_set)
    total = cache.get(total_key)
    if total is None:
        comparisons = Comparison.objects.all()
        if prompt_set:
            comparisons = comparisons.filter(prompt__prompt_set__slug=prompt_set)
        total = comparisons.count()
        cache.set(total_key, total, RATING_SETS_CACHE_SECONDS)
    return Progress(
        today=today,
        daily_target=settings.ARENA_DAILY_TARGET,
        in_set=in_set,
        set_total=total,
        prompt_set=prompt_set,
    )


def prompt_sets_to_rate() -> list[tuple[str, str]]:
    """(slug, name) of the prompt sets that have comparisons, for the rating page's links.

    Cached for a minute, as the sets' sizes are: finding the sets reads every comparison, and a
    rater opens the full page (htmx swaps only the panel) at least once per sitting."""
    sets = cache.get(_SETS_TO_RATE_KEY)
    if sets is None:
        comparisons = Comparison.objects.filter(prompt__prompt_set=OuterRef("pk"))
        sets = list(
            PromptSet.objects.filter(Exists(comparisons)).order_by("slug").values_list("slug", "name")
        )
        cache.set(_SETS_TO_RATE_KEY, sets, RATING_SETS_CACHE_SECONDS)
    return [(slug, name or slug) for slug, name in sets]


def rating_sets_forget(*, prompt_set: str) -> None:
    """New comparisons in ``prompt_set``: its size, the total and the list of sets to rate are
    counted again on the next request, not up to a minute later."""
    cache.delete_many([_SETS_TO_RATE_KEY, _set_size_key(prompt_set), _set_size_key(None)])


ONE_CLICK_CACHE_SECONDS = 300


def _one_click_key(rater: User) -> str:
    return f"arena:one-click:{rater.pk}"


def rater_one_click_get(*, rater: User) -> bool:
    """Whether the rater's verdict buttons submit at once: never with ARENA_ONE_CLICK_VOTING=off,
    else the rater's own choice, else the site default. Cached: it is read on every rating page."""
    mode = settings.ARENA_ONE_CLICK_VOTING
    if mode == "off":
        return False
    key = _one_click_key(rater)
    chosen = cache.get(key)
    if chosen is None:
        stored = RaterPreference.objects.filter(rater=rater).values_list("one_click", flat=True).first()
        chosen = (
            "" if stored is None else "on" if stored else "off"
        )  # "" (no choice) is cacheable, None is not
        cache.set(key, chosen, ONE_CLICK_CACHE_SECONDS)
    return mode == "default" if chosen == "" else chosen == "on"


def rater_one_click_forget(*, rater: User) -> None:
    cache.delete(_one_click_key(rater))


def vote_edit_deadline(cast_at: datetime) -> datetime:
    """Until when a vote cast at ``cast_at`` may be changed by its rater."""
    return cast_at + timedelta(seconds=settings.ARENA_VOTE_EDIT_SECONDS)


@dataclass(frozen=True)
class MyVote:
    """One of a rater's votes as they saw it: A is the answer that was on the left."""

    cast_at: datetime
    changed_at: datetime | None
    prompt_set: str
    prompt_set_name: str
    prompt: str  # the prompt's id in its set
    turn: int
    question: str  # the user's message on the judged turn, as plain text
    latest: Reveal
    earlier: list[tuple[datetime, Reveal]]  # (stored at, version), newest first
    editable_until: datetime | None  # None once the window has passed

    @property
    def vote_id(self) -> int:
        return self.latest.vote_id


_VOTE_FIELDS = (
    "id",
    "rater_id",
    "comparison_id",
    "assignment_id",
    "a_shown_first",
    "winner",
    "grade_a",
    "grade_b",
    "helpful",
    "honest",
    "harmless",
    "comment",
    "created_at",
    "version",
    "changed_at",
)


def _own_votes(rater: User) -> QuerySet[Vote]:
    """The rater's votes with what ``MyVote`` shows of them, and nothing more of the answers."""
    return (
        Vote.objects.filter(rater=rater)
        .select_related(
            "comparison__prompt__prompt_set",
            "comparison__answer_a__contender",
            "comparison__answer_b__contender",
        )
        .only(
            *_VOTE_FIELDS,
            "comparison__turn",
            "comparison__prompt__external_id",
            "comparison__prompt__turns",
            "comparison__prompt__prompt_set__slug",
            "comparison__prompt__prompt_set__name",
            "comparison__answer_a__contender__name",
            "comparison__answer_b__contender__name",
        )
        .prefetch_related(Prefetch("revisions", queryset=VoteRevision.objects.order_by("-version")))
    )


def rater_votes_list(*, rater: User, limit: int = 200, now: datetime | None = None) -> list[MyVote]:
    """The rater's own votes, newest first — never anyone else's — each with its earlier versions."""
    now = now or timezone.now()
    return [_my_vote(vote, now=now) for vote in _own_votes(rater).order_by("-created_at", "-id")[:limit]]


def rater_vote_get(*, rater: User, vote_id: int, now: datetime | None = None) -> MyVote | None:
    """One of the rater's own votes; None if there is no such vote or it is someone else's."""
    vote = _own_votes(rater).filter(pk=vote_id).first()
    return _my_vote(vote, now=now or timezone.now()) if vote else None


def _my_vote(vote: Vote, *, now: datetime) -> MyVote:
    comparison = vote.comparison
    prompt = comparison.prompt
    names = {"a_name": comparison.answer_a.contender.name, "b_name": comparison.answer_b.contender.name}
    turns = prompt.turns if isinstance(prompt.turns, list) else []
    deadline = vote_edit_deadline(vote.created_at)
    return MyVote(
        cast_at=vote.created_at,
        changed_at=vote.changed_at,
        prompt_set=prompt.prompt_set.slug,
        prompt_set_name=prompt.prompt_set.name,
        prompt=prompt.external_id,
        turn=comparison.turn,
        question=str(turns[comparison.turn - 1]) if len(turns) >= comparison.turn else "",
        latest=vote_reveal(
            vote, a_shown_first=vote.a_shown_first, vote_id=vote.pk, version=vote.version, **names
        ),
        earlier=[
            (
                revision.recorded_at,
                vote_reveal(
                    revision,
                    a_shown_first=vote.a_shown_first,
                    vote_id=vote.pk,
                    version=revision.version,
                    **names,
                ),
            )
            for revision in vote.revisions.all()
        ],
        editable_until=deadline if now <= deadline else None,
    )


@dataclass(frozen=True)
class RaterStats:
    rater_id: int
    username: str
    votes: int
    skips: int
    median_seconds: float | None
    gold_votes: int
    gold_correct: int
    decisive: int
    left_wins: int
    shared_pairs: int
    agreed_pairs: int

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_votes if self.gold_votes else None

    @property
    def flagged(self) -> bool:
        """Failed the gold checks: enough gold votes and accuracy below the threshold."""
        accuracy = self.gold_accuracy
        return (
            accuracy is not None
            and self.gold_votes >= settings.ARENA_GOLD_MIN_VOTES
            and accuracy < settings.ARENA_GOLD_MIN_ACCURACY
        )

    @property
    def left_preference(self) -> float | None:
        """Share of decisive votes (A or B better) that went to the answer shown on the left."""
        return self.left_wins / self.decisive if self.decisive else None

    @property
    def agreement(self) -> float | None:
        """Share of (this rater, other rater) pairs on a shared comparison with the same verdict."""
        return self.agreed_pairs / self.shared_pairs if self.shared_pairs else None


def rater_stats_list() -> list[RaterStats]:
    """Per-rater quality figures for the staff page, from one pass over the votes."""
    rows = Vote.objects.values_list(
        "rater_id",
        "comparison_id",
        "winner",
        "a_shown_first",
        "seconds_spent",
        "comparison__is_gold",
        "comparison__gold_winner",
    ).order_by("id")
    seconds: dict[int, list[float]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_comparison: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for rater_id, comparison_id, winner, a_first, spent, is_gold, gold_winner in rows.iterator(5000):
        c = counts[rater_id]
        c["votes"] += 1
        if spent is not None:
            seconds[rater_id].append(spent)
        if is_gold and gold_winner:
            c["gold"] += 1
            c["gold_correct"] += winner == gold_winner
        if winner in ("model_a", "model_b"):
            c["decisive"] += 1
            c["left"] += (winner == "model_a") == a_first
        by_comparison[comparison_id].append((rater_id, winner))
    for verdicts in by_comparison.values():
        for rater_id, winner in verdicts:
            for other_id, other in verdicts:
                if other_id != rater_id:
                    counts[rater_id]["shared"] += 1
                    counts[rater_id]["agreed"] += winner == other
    skips: dict[int, int] = defaultdict(int, dict(_skip_counts()))
    users = get_user_model().objects.filter(pk__in=set(counts) | set(skips)).order_by("username")
    return [
        RaterStats(
            rater_id=u.pk,
            username=u.get_username(),
            votes=counts[u.pk]["votes"],
            skips=skips[u.pk],
            median_seconds=statistics.median(seconds[u.pk]) if seconds[u.pk] else None,
            gold_votes=counts[u.pk]["gold"],
            gold_correct=counts[u.pk]["gold_correct"],
            decisive=counts[u.pk]["decisive"],
            left_wins=counts[u.pk]["left"],
            shared_pairs=counts[u.pk]["shared"],
            agreed_pairs=counts[u.pk]["agreed"],
        )
        for u in users
    ]


def _skip_counts() -> list[tuple[int, int]]:
    return list(
        Assignment.objects.filter(status=Assignment.Status.SKIPPED)
        .values("rater_id")
        .annotate(n=Count("id"))
        .values_list("rater_id", "n")
    )


@dataclass(frozen=True)
class InviteRow:
    invite: Invite
    status: str  # open | used up | expired | revoked | creator left

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def rater_invites_list(*, limit: int = 100) -> list[InviteRow]:
    """The newest invites with what state they are in, for the staff page."""
    now = timezone.now()
    rows = []
    for invite in Invite.objects.select_related("pool", "created_by").order_by("-created_at", "-pk")[:limit]:
        if invite.revoked_at is not None:
            status = "revoked"
        elif not (invite.created_by.is_active and invite.created_by.is_staff):
            status = "creator left"
        elif invite.uses >= invite.max_uses:
            status = "used up"
        elif invite.expires_at <= now:
            status = "expired"
        else:
            status = "open"
        rows.append(InviteRow(invite, status))
    return rows
