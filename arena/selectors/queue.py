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

# ruff: noqa: S608 - see "The queue runs on every lease" below: values are always parameters.
from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Sized
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import TTLCache
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver

from arena.markdown import turns_html
from arena.models import Answer, Assignment, Comparison, Contender, Prompt, PromptSet, Vote
from arena.sides import is_shown_first

_LOCK_ATTEMPTS = 8


POOL_CACHE_SECONDS = 60


def rater_prompt_set_ids(*, rater: User) -> set[int] | None:
    """Prompt sets the rater's pools allow, or None for "any" (no pool restricts them).

    Cached for a minute per rater: pools change rarely and this runs on every lease."""
    key = f"arena:rater-prompt-sets:{rater.pk}"
    cached = cache.get(key)
    if cached is None:
        cached = sorted(
            rater.rater_pools.filter(prompt_sets__isnull=False).values_list("prompt_sets", flat=True)
        )
        cache.set(key, cached, POOL_CACHE_SECONDS)
    return set(cached) or None


# The queue runs on every lease, so its statements are written out rather than built with the
# ORM: building and compiling the equivalent queryset cost more CPU than the rest of the request
# (bench_vote.py; PERFORMANCE.md lists every such statement). Portable SQL (PostgreSQL in
# production, SQLite for the demo); the lock clause is added where the database has it. Only table
# names from the models' _meta and fixed status strings are formatted into the SQL (hence the
# file-wide S608 exemption); every value is a query parameter.
_C = Comparison._meta.db_table
_AS = Assignment._meta.db_table
_V = Vote._meta.db_table
_P = Prompt._meta.db_table
_PS = PromptSet._meta.db_table
_AN = Answer._meta.db_table
_LEASED = Assignment.Status.LEASED.value
_DONE = (Assignment.Status.VOTED.value, Assignment.Status.SKIPPED.value)
_COLUMNS = ", ".join(f"c.{f.column}" for f in Comparison._meta.concrete_fields)
# Live leases on a comparison held by raters other than the asking one: correlated with the
# queue's row ``c`` (parameters: now, rater), or for one comparison (comparison, now, rater).
_LEASES_OF = (
    f"SELECT COUNT(*) FROM {_AS} l WHERE l.comparison_id = {{}} AND l.status = '{_LEASED}' "
    "AND l.expires_at > %s AND l.rater_id <> %s"
)
_LIVE_LEASES = _LEASES_OF.format("c.id")
_LIVE_LEASES_OF_ONE = _LEASES_OF.format("%s")


_Param = bool | int | str | None  # what the clauses below bind


@dataclass(frozen=True)
class _Where:
    """The WHERE clause of "comparisons this rater may be given", with its parameters."""

    sql: str
    params: tuple[_Param, ...]

    def and_(self, sql: str, *params: _Param) -> _Where:
        return _Where(f"{self.sql} AND {sql}", self.params + params)


def _placeholders(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))


def _candidates(*, rater: User, prompt_set: str | None, now: datetime) -> _Where:
    """Never one the rater voted on or skipped; only the requested set and the pools' sets."""
    where = _Where(
        f"NOT EXISTS (SELECT 1 FROM {_AS} d WHERE d.comparison_id = c.id AND d.rater_id = %s "
        f"AND d.status IN ('{_DONE[0]}', '{_DONE[1]}')) "
        f"AND NOT EXISTS (SELECT 1 FROM {_V} v WHERE v.comparison_id = c.id AND v.rater_id = %s)",
        (rater.pk, rater.pk),
    )
    if prompt_set:
        where = where.and_(
            f"c.prompt_id IN (SELECT p.id FROM {_P} p JOIN {_PS} s ON s.id = p.prompt_set_id WHERE s.slug = %s)",
            prompt_set,
        )
    allowed = rater_prompt_set_ids(rater=rater)
    if allowed is not None:
        ids = sorted(allowed)
        where = where.and_(
            f"c.prompt_id IN (SELECT p.id FROM {_P} p WHERE p.prompt_set_id IN ({_placeholders(ids)}))", *ids
        )
    return where


def _open(where: _Where, *, rater: User, now: datetime) -> _Where:
    """Not gold, and fewer votes plus other raters' live leases than its target."""
    return where.and_(
        f"c.is_gold = %s AND COALESCE(c.target_votes, %s) > c.vote_count + ({_LIVE_LEASES})",
        False,
        settings.ARENA_TARGET_VOTES,
        connection.ops.adapt_datetimefield_value(now),
        rater.pk,
    )


def _still_open(comparison: Comparison, *, rater: User, now: datetime) -> bool:
    """Re-checked after the lock, in a new statement: sees leases committed since the pick."""
    if comparison.is_gold:
        return True
    target = comparison.target_votes or settings.ARENA_TARGET_VOTES
    with connection.cursor() as cursor:
        cursor.execute(
            _LIVE_LEASES_OF_ONE,
            (comparison.pk, connection.ops.adapt_datetimefield_value(now), rater.pk),
        )
        leases = cursor.fetchone()[0]
    return comparison.vote_count + leases < target


def _lock_first(where: _Where, *, rater: User, now: datetime) -> Comparison | None:
    """Lock the first row (fewest votes, then id) no one else holds and that is still open
    under the lock. The row carries ``own_assignment_id``: the rater's own lapsed lease on it."""
    lock = " FOR UPDATE OF c SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    passed: list[int] = []
    for _ in range(_LOCK_ATTEMPTS):
        current = where.and_(f"c.id NOT IN ({_placeholders(passed)})", *passed) if passed else where
        sql = (
            f"SELECT {_COLUMNS}, (SELECT o.id FROM {_AS} o WHERE o.comparison_id = c.id AND o.rater_id = %s "
            f"ORDER BY o.id LIMIT 1) AS own_assignment_id FROM {_C} c WHERE {current.sql} "
            f"ORDER BY c.vote_count, c.id LIMIT 1{lock}"
        )
        row = next(iter(Comparison.objects.raw(sql, (rater.pk, *current.params))), None)
        if row is None:
            return None
        if _still_open(row, rater=rater, now=now):
            return row
        passed.append(row.pk)
    return None


def _informative_order(where: _Where) -> _Where | None:
    """Restrict ``where`` to the open model pair with the fewest human battles so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT a.contender_id, b.contender_id FROM {_C} c JOIN {_AN} a ON a.id = c.answer_a_id "
            f"JOIN {_AN} b ON b.id = c.answer_b_id WHERE {where.sql}",
            where.params,
        )
        pairs = {tuple(sorted(p)) for p in cursor.fetchall()}
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
    side = f"SELECT x.id FROM {_AN} x WHERE x.contender_id = %s"
    return where.and_(
        f"((c.answer_a_id IN ({side}) AND c.answer_b_id IN ({side})) "
        f"OR (c.answer_a_id IN ({side}) AND c.answer_b_id IN ({side})))",
        low,
        high,
        high,
        low,
    )


def comparison_next_for_rater(
    *, rater: User, prompt_set: str | None = None, now: datetime, rng: random.Random | None = None
) -> Comparison | None:
    """The comparison to lease to ``rater`` next, locked FOR UPDATE; None when nothing is open.

    Only the comparison's own fields are loaded (plus ``own_assignment_id``). Call inside
    ``transaction.atomic()`` and create the lease before committing.
    """
    rng = rng or random.Random()
    base = _candidates(rater=rater, prompt_set=prompt_set, now=now)
    if settings.ARENA_GOLD_RATE > 0 and rng.random() < settings.ARENA_GOLD_RATE:
        gold = _lock_first(base.and_("c.is_gold = %s", True), rater=rater, now=now)
        if gold is not None:
            return gold
    open_where = _open(base, rater=rater, now=now)
    if settings.ARENA_QUEUE_STRATEGY == "informative":
        narrowed = _informative_order(open_where)
        if narrowed is not None:
            chosen = _lock_first(narrowed, rater=rater, now=now)
            if chosen is not None:
                return chosen
    return _lock_first(open_where, rater=rater, now=now)


# --- What the rating page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class TurnView:
    number: int
    question_html: str
    left_html: str
    right_html: str
    judged: bool


# A verdict in screen terms, as the rating page words it.
CHOICE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both are bad"}


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
    vote_id: int
    version: int  # the vote's version this shows (a revision shows its own)

    @property
    def choice_label(self) -> str:
        return CHOICE_LABELS.get(self.choice, self.choice)


def vote_reveal(
    verdict: Any, *, a_shown_first: bool, a_name: str, b_name: str, vote_id: int, version: int
) -> Reveal:
    """A stored verdict (a ``Vote`` or one of its ``VoteRevision``s, in comparison terms) as its
    rater saw it: A is the answer that was on the left."""
    first = a_shown_first
    return Reveal(
        left_name=a_name if first else b_name,
        right_name=b_name if first else a_name,
        choice=_to_screen(verdict.winner, first),
        grade_left=verdict.grade_a if first else verdict.grade_b,
        grade_right=verdict.grade_b if first else verdict.grade_a,
        helpful=_to_screen(verdict.helpful, first),
        honest=_to_screen(verdict.honest, first),
        harmless=_to_screen(verdict.harmless, first),
        comment=verdict.comment,
        vote_id=vote_id,
        version=version,
    )


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
    return "A" if is_shown_first(value, a_shown_first=a_shown_first) else "B"


@dataclass(frozen=True)
class _Display:
    """Everything the rating page reads of a comparison, rendered: its rows do not change once
    created (answers are immutable), so this is cached per process (``_displays``)."""

    prompt_set: str
    category: str
    turn: int
    question_html: tuple[str, ...]
    a_html: tuple[str, ...]  # comparison.answer_a, per turn
    b_html: tuple[str, ...]
    a_name: str  # shown only in a reveal
    b_name: str


# The rendered comparisons by id: the 1,024 used last, each for 600 s at most so a renamed
# contender or prompt set shows its new name within that time. Process-local on purpose: it holds a
# few KB of HTML per comparison, which would crowd rate-limit counters out of a LocMem cache, and a
# miss costs one query by primary key. cachetools' caches are not thread-safe: hence the lock.
_displays: TTLCache[int, _Display] = TTLCache(maxsize=1024, ttl=600.0)
_displays_lock = threading.Lock()


@receiver(post_save, sender=Comparison, dispatch_uid="arena.queue.display_comparison_saved")
@receiver(post_save, sender=Answer, dispatch_uid="arena.queue.display_answer_saved")
@receiver(post_save, sender=Contender, dispatch_uid="arena.queue.display_contender_saved")
@receiver(post_save, sender=Prompt, dispatch_uid="arena.queue.display_prompt_saved")
@receiver(post_save, sender=PromptSet, dispatch_uid="arena.queue.display_prompt_set_saved")
def _display_source_saved(sender: type, **kwargs: object) -> None:
    """An edit (admin, shell) in this process drops the rendered comparisons at once; other
    processes see it within the cache's time limit."""
    with _displays_lock:
        _displays.clear()


_CO = Contender._meta.db_table
_DISPLAY_SQL = (
    f"SELECT c.turn, s.slug, p.category, p.turns, p.rendered, a.turns, a.rendered, b.turns, b.rendered, "
    f"ca.name, cb.name FROM {_C} c "
    f"JOIN {_P} p ON p.id = c.prompt_id JOIN {_PS} s ON s.id = p.prompt_set_id "
    f"JOIN {_AN} a ON a.id = c.answer_a_id JOIN {_AN} b ON b.id = c.answer_b_id "
    f"JOIN {_CO} ca ON ca.id = a.contender_id JOIN {_CO} cb ON cb.id = b.contender_id WHERE c.id = %s"
)


def _json(value: object) -> Any:
    """A JSON column as a raw cursor returns it: text (Django leaves decoding to the field)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _turn_html(turns: object, rendered: object, count: int) -> tuple[str, ...]:
    """The first ``count`` turns as HTML (stored HTML where it is current); missing turns empty."""
    html = turns_html(_json(turns), _json(rendered))
    return tuple(html[i] if i < len(html) else "" for i in range(count))


def comparison_display_get(comparison_id: int) -> _Display:
    """The rendered comparison: from the process cache, else one query by primary key."""
    with _displays_lock:
        display = _displays.get(comparison_id)
    if display is None:
        with connection.cursor() as cursor:
            cursor.execute(_DISPLAY_SQL, (comparison_id,))
            row = cursor.fetchone()
        if row is None:
            raise Comparison.DoesNotExist(f"No comparison {comparison_id}.")
        (
            turn,
            slug,
            category,
            question,
            question_rendered,
            a_turns,
            a_rendered,
            b_turns,
            b_rendered,
            a_name,
            b_name,
        ) = row
        display = _Display(
            prompt_set=slug,
            category=category,
            turn=turn,
            question_html=_turn_html(question, question_rendered, turn),
            a_html=_turn_html(a_turns, a_rendered, turn),
            b_html=_turn_html(b_turns, b_rendered, turn),
            a_name=a_name,
            b_name=b_name,
        )
        with _displays_lock:
            _displays[comparison_id] = display
    return display


def comparison_prompt_set_cached(comparison_id: int) -> str | None:
    """The comparison's prompt set slug if this process has it at hand (no query), else None."""
    with _displays_lock:
        display = _displays.get(comparison_id)
    return display.prompt_set if display else None


def comparison_view_get(*, assignment_id: int, vote: Vote | None = None) -> ComparisonView:
    """What the rating page shows for an assignment; with ``vote``, the reveal as well."""
    return comparison_view_for(assignment=Assignment.objects.get(pk=assignment_id), vote=vote)


def vote_seen_as(vote: Vote) -> Assignment:
    """The assignment ``vote`` was cast on, as ``comparison_view_for`` reads it (its id, comparison
    and side order), without a query; also for votes without one (e.g. entered in the admin)."""
    return Assignment(
        pk=vote.assignment_id, comparison_id=vote.comparison_id, a_shown_first=vote.a_shown_first
    )


def comparison_view_for(*, assignment: Assignment, vote: Vote | None = None) -> ComparisonView:
    """``comparison_view_get`` for an assignment already in hand (only its id, comparison id and
    side order are read)."""
    display = comparison_display_get(assignment.comparison_id)
    first = assignment.a_shown_first
    left_html, right_html = (display.a_html, display.b_html) if first else (display.b_html, display.a_html)
    turns = [
        TurnView(
            number=index + 1,
            question_html=display.question_html[index],
            left_html=left_html[index],
            right_html=right_html[index],
            judged=index + 1 == display.turn,
        )
        for index in range(display.turn)
    ]
    reveal = None
    if vote is not None:
        reveal = vote_reveal(
            vote,
            a_shown_first=first,
            a_name=display.a_name,
            b_name=display.b_name,
            vote_id=vote.pk,
            version=vote.version,
        )
    return ComparisonView(
        assignment_id=assignment.pk,
        prompt_set=display.prompt_set,
        category=display.category,
        turns=turns,
        judged_turn=display.turn,
        multi_turn=display.turn > 1,
        reveal=reveal,
    )
