"""Anomalous raters of the human source, as derived data (issue 18, point 7).

``rater_check_compute`` reads every human vote that is not on a gold comparison, fits
Bradley-Terry strengths to all of them, and runs the pure checks of ``arena.ratings.raters``
on each rater: the likelihood of their votes under the fit, the left-side test, the
Benjamini-Hochberg correction at ``ARENA_RATER_FDR``, and the reading-speed floor (a vote is
too fast when its seconds from lease to vote are under the words of the two answers at
``ARENA_RATER_WORDS_PER_SECOND``; words are 0.75 per token of the answers' style features).

The result is cached (``CACHE_KEY``, no expiry) and dropped when human votes arrive
(``snapshots_mark_stale``). Who computes it: the refresh of a snapshot that reads clean human
votes (never a request, except the small data a request computes at once), or a staff visit
to ``/staff/raters/`` that schedules it (``rater_check_schedule``). Pages only read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from arena.celery import task_named
from arena.models import Vote

CACHE_KEY = "arena:rater-check"
WORDS_PER_TOKEN = 0.75


def rater_check_compute() -> dict[str, Any]:
    """Run the anomaly checks on the human votes; JSON-ready (see ``rater_check_get``)."""
    import numpy as np

    from arena.ratings.arrays import BattleArrays, outcome_counts, pairwise_wins
    from arena.ratings.bradley_terry import degenerate_prior_precision, fit_bradley_terry
    from arena.ratings.raters import rater_check
    from reports.selectors.answer_styles import OUTCOME_OF_WINNER, AnswerStyles

    rows = list(
        Vote.objects.exclude(comparison__is_gold=True)
        .order_by("id")
        .values_list(
            "rater_id",
            "rater__username",
            "comparison__answer_a__contender_id",
            "comparison__answer_b__contender_id",
            "winner",
            "a_shown_first",
            "seconds_spent",
            "comparison__answer_a_id",
            "comparison__answer_b_id",
            "comparison__turn",
        )
    )
    words_per_second = settings.ARENA_RATER_WORDS_PER_SECOND
    result: dict[str, Any] = {
        "computed_at": datetime.now(UTC).isoformat(),
        "votes": len(rows),
        "raters_checked": 0,
        "fdr": settings.ARENA_RATER_FDR,
        "words_per_second": words_per_second,
        "flagged": [],
        "flagged_ids": [],
    }
    if not rows:
        return result
    rater_ids, rater = np.unique(np.array([r[0] for r in rows], dtype=np.int64), return_inverse=True)
    names = {r[0]: r[1] for r in rows}
    contenders, codes = np.unique(np.array([[r[2], r[3]] for r in rows], dtype=np.int64), return_inverse=True)
    codes = codes.reshape(-1, 2)
    a, b = codes[:, 0].astype(np.intp), codes[:, 1].astype(np.intp)
    outcome = np.array([OUTCOME_OF_WINNER[r[4]] for r in rows], dtype=np.int8)
    first_a = np.array([bool(r[5]) for r in rows], dtype=np.bool_)
    arrays = BattleArrays.from_arrays([str(c) for c in contenders], a, b, outcome)
    wins = pairwise_wins(outcome_counts(arrays), both_bad_as_tie=True)
    theta = fit_bradley_terry(wins, prior_precision=degenerate_prior_precision(10.0)).theta
    # The reading-speed floor: seconds to read both answers at the configured speed.
    styles = AnswerStyles()
    turn = np.array([r[9] for r in rows], dtype=np.int64)
    tokens = (
        styles.features(np.array([r[7] for r in rows], dtype=np.int64), turn)[:, 0]
        + styles.features(np.array([r[8] for r in rows], dtype=np.int64), turn)[:, 0]
    )
    seconds = np.array([np.nan if r[6] is None else r[6] for r in rows], dtype=np.float64)
    floor = tokens * WORDS_PER_TOKEN / words_per_second
    with np.errstate(invalid="ignore"):
        too_fast = ~np.isnan(seconds) & ~np.isnan(floor) & (seconds < floor)
    check = rater_check(
        rater.astype(np.intp),
        a,
        b,
        outcome,
        theta,
        n_raters=rater_ids.size,
        first_shown_a=first_a,
        too_fast=too_fast,
        fdr=settings.ARENA_RATER_FDR,
    )
    fast_votes = np.bincount(rater, weights=too_fast.astype(np.float64), minlength=rater_ids.size).astype(int)
    # The Benjamini-Hochberg cut-off: each test whose own (doubled) p-value is under it is a reason.
    cutoff = settings.ARENA_RATER_FDR * int(check.unlikely.sum()) / rater_ids.size
    flagged = []
    for i in np.flatnonzero(check.flagged):
        reasons = []
        if check.unlikely[i] and min(1.0, 2 * check.p_likelihood[i]) <= cutoff:
            reasons.append("votes unlikely under the ratings of everyone's votes")
        if check.unlikely[i] and min(1.0, 2 * check.p_position[i]) <= cutoff:
            reasons.append("picks the left answer far more or less often than chance")
        if check.too_fast[i]:
            reasons.append(f"{fast_votes[i]} of {int(check.votes[i])} votes faster than reading speed")
        flagged.append(
            {
                "rater_id": int(rater_ids[i]),
                "username": names[int(rater_ids[i])],
                "votes": int(check.votes[i]),
                "decisive": int(check.decisive[i]),
                "p_likelihood": float(check.p_likelihood[i]),
                "p_position": float(check.p_position[i]),
                "p_value": float(check.p_value[i]),
                "unlikely": bool(check.unlikely[i]),
                "too_fast": bool(check.too_fast[i]),
                "fast_votes": int(fast_votes[i]),
                "reasons": reasons,
            }
        )
    flagged.sort(key=lambda row: (row["p_value"], row["username"]))
    result.update(
        raters_checked=int(rater_ids.size), flagged=flagged, flagged_ids=[r["rater_id"] for r in flagged]
    )
    return result


def rater_check_get() -> dict[str, Any] | None:
    """The stored result, or None when it is not computed (never computes)."""
    return cache.get(CACHE_KEY)


def rater_check_refresh() -> dict[str, Any]:
    result = rater_check_compute()
    cache.set(CACHE_KEY, result, timeout=None)
    return result


def rater_check_forget() -> None:
    """New human votes: the check is computed again by whoever needs it next."""
    cache.delete(CACHE_KEY)


def anomalous_rater_ids() -> list[int]:
    """Raters the check flags, for computations of clean human votes (they run in snapshot
    refreshes, off the request): computed now when not stored."""
    result = rater_check_get()
    if result is None:
        result = rater_check_refresh()
    return list(result["flagged_ids"])


def _refresh_in_background(key: str) -> None:
    from django.db import close_old_connections, connection

    try:
        rater_check_refresh()
    finally:
        close_old_connections()
        connection.close()


def _background() -> Any:
    global _BACKGROUND
    if _BACKGROUND is None:
        from arena.background import DelayedKeys

        _BACKGROUND = DelayedKeys(_refresh_in_background, name="rater-check")
    return _BACKGROUND


_BACKGROUND: Any = None


def rater_check_schedule() -> bool:
    """Make sure the check gets computed (staff pages): at once over small data
    (``ARENA_SNAPSHOT_SYNC_MAX_BATTLES`` votes), else by a worker or the background thread.
    Returns whether it is stored now."""
    from django.db import transaction

    if rater_check_get() is not None:
        return True
    if Vote.objects.count() <= settings.ARENA_SNAPSHOT_SYNC_MAX_BATTLES:
        rater_check_refresh()
        return True
    if not cache.add(CACHE_KEY + ":pending", 1, timeout=600):
        return False
    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.ARENA_SNAPSHOT_REFRESH_INLINE:
        transaction.on_commit(lambda: _background().schedule("rater-check"))
    else:
        task = task_named("arena.tasks.rater_check_refresh")
        transaction.on_commit(lambda: task.apply_async())
    return False
