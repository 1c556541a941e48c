"""Choosing the next comparison for a rater, and what the rating page shows of it.

The queue rules:

* never a comparison the rater already voted on or skipped;
* a comparison is *open* while ``vote_count + live leases held by other raters < target``
  (``Comparison.target_votes`` or ``ARENA_TARGET_VOTES``); a lease lapses after
  ``ARENA_LEASE_SECONDS``, which returns an abandoned comparison to the pool;
* ``ARENA_QUEUE_STRATEGY=balanced`` (default): fewest votes first, then lowest id (ids are
  shuffled at creation, so this is a random order that every rater shares);
* ``ARENA_QUEUE_STRATEGY=informative``: a proxy for "the outcome that narrows the confidence
  intervals most": the model pair with the fewest human battles so far (a rating's interval
  shrinks roughly with the square root of the battles behind it, so the thinnest pair gains the
  most), then fewest votes within that pair;
* gold comparisons (known answer) are served to every rater, at a rate of ``ARENA_GOLD_RATE``
  while the rater has unseen gold, and ignore the target.

Concurrency: the chosen row is locked with ``SELECT … FOR UPDATE SKIP LOCKED`` so two raters
asking at once pass over each other's candidate; once locked, the open-ness is re-checked with a
fresh statement, because a lease committed by another rater after our statement's snapshot
would otherwise be invisible (the lease lives in another table, so PostgreSQL's re-check of the
locked row does not see it). The caller must hold a transaction.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from arena.markdown import render_markdown
from arena.models import Assignment, Comparison, Vote

_LOCK_ATTEMPTS = 8


POOL_CACHE_SECONDS = 60


def rater_prompt_set_ids(*, rater) -> set[int] | None:  # type: ignore[no-untyped-def]
    """Prompt sets the rater's pools allow, or None for "any" (no pool restricts them).

    Cached for a minute per rater: pools change rarely and this runs on every lease."""
    key = f"arena:rater-prompt-sets:{rater.pk}"
    cached = cache.get(key)
    if cached is None:
        cached = sorted(rater.rater_pools.filter(prompt_sets__isnull=False).values_list("prompt_sets", flat=True))
        cache.set(key, cached, POOL_CACHE_SECONDS)
    return set(cached) or None


def _not_done_by(rater) -> Q:  # type: ignore[no-untyped-def]
    done = Assignment.objects.filter(
        comparison=OuterRef("pk"), rater=rater, status__in=[Assignment.Status.VOTED, Assignment.Status.SKIPPED]
    )
    voted = Vote.objects.filter(comparison=OuterRef("pk"), rater=rater)
    return ~Q(Exists(done)) & ~Q(Exists(voted))


def _live_leases(*, comparison, rater, now: datetime) -> QuerySet[Assignment]:  # type: ignore[no-untyped-def]
    return Assignment.objects.filter(
        comparison=comparison, status=Assignment.Status.LEASED, expires_at__gt=now
    ).exclude(rater=rater)


def _candidates(*, rater, prompt_set: str | None, now: datetime) -> QuerySet[Comparison]:  # type: ignore[no-untyped-def]
    mine = Assignment.objects.filter(comparison=OuterRef("pk"), rater=rater).values("pk")[:1]
    qs = Comparison.objects.filter(_not_done_by(rater)).annotate(own_assignment_id=Subquery(mine))
    if prompt_set:
        qs = qs.filter(prompt__prompt_set__slug=prompt_set)
    allowed = rater_prompt_set_ids(rater=rater)
    if allowed is not None:
        qs = qs.filter(prompt__prompt_set_id__in=allowed)
    return qs


def _open(qs: QuerySet[Comparison], *, rater, now: datetime) -> QuerySet[Comparison]:  # type: ignore[no-untyped-def]
    leases = (
        _live_leases(comparison=OuterRef("pk"), rater=rater, now=now)
        .order_by()
        .values("comparison")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        qs.filter(is_gold=False)
        .annotate(
            target=Coalesce("target_votes", Value(settings.ARENA_TARGET_VOTES), output_field=IntegerField()),
            leases=Coalesce(Subquery(leases, output_field=IntegerField()), Value(0)),
        )
        .filter(target__gt=F("vote_count") + F("leases"))
    )


def _still_open(comparison: Comparison, *, rater, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    if comparison.is_gold:
        return True
    target = comparison.target_votes or settings.ARENA_TARGET_VOTES
    return comparison.vote_count + _live_leases(comparison=comparison, rater=rater, now=now).count() < target


def _lock_first(qs: QuerySet[Comparison], *, rater, now: datetime) -> Comparison | None:  # type: ignore[no-untyped-def]
    """Lock the first row of ``qs`` no one else holds and that is still open under the lock."""
    passed: list[int] = []
    for _ in range(_LOCK_ATTEMPTS):
        row = (
            qs.exclude(pk__in=passed)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if row is None:
            return None
        if _still_open(row, rater=rater, now=now):
            return row
        passed.append(row.pk)
    return None


def _informative_order(qs: QuerySet[Comparison]) -> QuerySet[Comparison] | None:
    """Restrict ``qs`` to the open model pair with the fewest human battles so far."""
    pairs = {
        tuple(sorted(p))
        for p in qs.order_by().values_list("answer_a__contender_id", "answer_b__contender_id").distinct()
    }
    if not pairs:
        return None
    battles: Counter[tuple[int, ...]] = Counter(
        tuple(sorted(p))
        for p in Vote.objects.values_list(
            "comparison__answer_a__contender_id", "comparison__answer_b__contender_id"
        ).iterator(5000)
    )
    fewest = min(battles[p] for p in pairs)
    low, high = random.choice(sorted(p for p in pairs if battles[p] == fewest))
    return qs.filter(
        Q(answer_a__contender_id=low, answer_b__contender_id=high)
        | Q(answer_a__contender_id=high, answer_b__contender_id=low)
    )


def comparison_next_for_rater(
    *, rater, prompt_set: str | None = None, now: datetime, rng: random.Random | None = None  # type: ignore[no-untyped-def]
) -> Comparison | None:
    """The comparison to lease to ``rater`` next, locked FOR UPDATE; None when nothing is open.

    Call inside ``transaction.atomic()`` and create the lease before committing.
    """
    rng = rng or random.Random()
    base = _candidates(rater=rater, prompt_set=prompt_set, now=now).select_related("prompt")
    if settings.ARENA_GOLD_RATE > 0 and rng.random() < settings.ARENA_GOLD_RATE:
        gold = _lock_first(base.filter(is_gold=True).order_by("vote_count", "id"), rater=rater, now=now)
        if gold is not None:
            return gold
    open_qs = _open(base, rater=rater, now=now)
    if settings.ARENA_QUEUE_STRATEGY == "informative":
        narrowed = _informative_order(open_qs)
        if narrowed is not None:
            chosen = _lock_first(narrowed.order_by("vote_count", "id"), rater=rater, now=now)
            if chosen is not None:
                return chosen
    return _lock_first(open_qs.order_by("vote_count", "id"), rater=rater, now=now)


# --- What the rating page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class TurnView:
    number: int
    question_html: str
    left_html: str
    right_html: str
    judged: bool


@dataclass(frozen=True)
class Reveal:
    """Shown only after the vote: the model names and the rater's own verdict, by screen side."""

    left_name: str
    right_name: str
    choice: str  # "A", "B", "tie" or "both_bad"
    grade_left: str
    grade_right: str
    helpful: str
    honest: str
    harmless: str
    comment: str


@dataclass(frozen=True)
class ComparisonView:
    """A comparison as one rater sees it. Holds no model name, answer id or contender id unless
    ``reveal`` is set, so a template cannot leak one by accident."""

    assignment_id: int
    prompt_set: str
    category: str
    turns: list[TurnView]
    judged_turn: int
    multi_turn: bool
    reveal: Reveal | None


def _to_screen(value: str, a_shown_first: bool) -> str:
    """model_a/model_b (comparison terms) → "A"/"B" (screen labels, A on the left)."""
    if value not in ("model_a", "model_b"):
        return value
    left_is_model_a = a_shown_first
    return "A" if (value == "model_a") == left_is_model_a else "B"


def comparison_view_get(*, assignment_id: int, vote: Vote | None = None) -> ComparisonView:
    """What the rating page shows for an assignment; with ``vote``, the reveal as well."""
    assignment = Assignment.objects.select_related(
        "comparison__prompt__prompt_set",
        "comparison__answer_a__contender",
        "comparison__answer_b__contender",
    ).get(pk=assignment_id)
    comparison = assignment.comparison
    prompt = comparison.prompt
    left, right = (
        (comparison.answer_a, comparison.answer_b)
        if assignment.a_shown_first
        else (comparison.answer_b, comparison.answer_a)
    )
    turns = []
    for index in range(comparison.turn):
        turns.append(
            TurnView(
                number=index + 1,
                question_html=render_markdown(prompt.turns[index] if index < len(prompt.turns) else ""),
                left_html=render_markdown(left.turns[index] if index < len(left.turns) else ""),
                right_html=render_markdown(right.turns[index] if index < len(right.turns) else ""),
                judged=index + 1 == comparison.turn,
            )
        )
    reveal = None
    if vote is not None:
        first = assignment.a_shown_first
        reveal = Reveal(
            left_name=left.contender.name,
            right_name=right.contender.name,
            choice=_to_screen(vote.winner, first),
            grade_left=vote.grade_a if first else vote.grade_b,
            grade_right=vote.grade_b if first else vote.grade_a,
            helpful=_to_screen(vote.helpful, first),
            honest=_to_screen(vote.honest, first),
            harmless=_to_screen(vote.harmless, first),
            comment=vote.comment,
        )
    return ComparisonView(
        assignment_id=assignment.pk,
        prompt_set=prompt.prompt_set.slug,
        category=prompt.category,
        turns=turns,
        judged_turn=comparison.turn,
        multi_turn=comparison.turn > 1,
        reveal=reveal,
    )
