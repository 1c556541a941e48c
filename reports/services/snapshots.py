"""Writing rating snapshots: compute a leaderboard or report once, store it, tell open pages.

Pages and the API only read ``RatingSnapshot`` rows, so a page over a million battles costs one
indexed read. New verdicts make snapshots stale: ``reports.receivers`` calls
``snapshots_mark_stale`` for every vote, judgment and verdict announced
(``arena.signals.verdicts_changed``), which schedules one refresh per affected snapshot per
debounce window (``ARENA_SNAPSHOT_DEBOUNCE_SECONDS``), using the cache as the lock. The refresh
never runs inside the request that wrote the verdict: with a broker it is a Celery task with a
countdown, without one it runs on a background thread of the process (``arena.background``).

Snapshots are bounded, because each one is recomputed after new verdicts:

* only parameters that validate get one;
* visitors who are not staff may only read stored snapshots or create those of the canonical
  set (``ReportParams.is_canonical``: what each page shows before a filter beyond source, prompt
  set and method is touched); anything else answers ``SnapshotNotAvailable``;
* at most ``ARENA_SNAPSHOT_MAX`` are stored (the least recently read are deleted first) and one
  unread for ``ARENA_SNAPSHOT_UNREAD_SECONDS`` is deleted, not refreshed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from time import perf_counter, time_ns
from typing import Any, Literal, overload

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from arena.background import DelayedKeys
from arena.celery import task_named
from arena.models import RatingSnapshot
from reports.selectors.battles import parse_source
from reports.selectors.leaderboards import (
    DEFAULT_SOURCE_CACHE_KEY,
    SOURCES_CACHE_KEY,
    LeaderboardParams,
    ReportParams,
    SnapshotView,
    leaderboard_compute,
    snapshot_get,
)
from reports.selectors.panels import panels_of_judge
from reports.selectors.reports import (
    AGREEMENT_PAIR_CACHE_KEY,
    BiasParams,
    agreement_compute,
    bias_compute,
    params_from_key,
    report_classes,
)

logger = logging.getLogger(__name__)

LIVE_GROUP = "leaderboard"
_STALE_LOCK = "arena:snapshot-stale:"
# One scan of the snapshots per (source, prompt set) per debounce window; the version changes
# whenever a snapshot row is created, so a snapshot born inside a window is not passed over.
_SCAN_GATE = "arena:snapshot-scan:"
_SCAN_VERSION = "arena:snapshot-scan-version"
_PENDING_LOCK = "arena:snapshot-pending:"
# A refresh that never ran (worker lost) stops blocking new ones after this long.
_PENDING_SECONDS = 600


def _compute(params: ReportParams) -> dict[str, Any]:
    from reports.selectors.evaluations import EVALUATION_PARAMS, evaluation_compute

    if isinstance(params, EVALUATION_PARAMS):  # scores, win rates, grades, the judges table
        return evaluation_compute(params=params)
    if isinstance(params, LeaderboardParams):
        return leaderboard_compute(params=params)
    if isinstance(params, BiasParams):
        return bias_compute(params=params)
    return agreement_compute(params=params)  # type: ignore[arg-type]  # the last kind


@overload
def snapshot_refresh(*, key: str, create: Literal[True] = True) -> RatingSnapshot: ...
@overload
def snapshot_refresh(*, key: str, create: bool) -> RatingSnapshot | None: ...


def snapshot_refresh(*, key: str, create: bool = True) -> RatingSnapshot | None:
    """Recompute the snapshot stored under ``key`` and announce it to open pages.

    ``create=False`` (a refresh after new verdicts) only updates a stored row: a snapshot evicted
    while its refresh waited stays evicted. Returns None when there was nothing to update.
    """
    params = params_from_key(key)
    if not create and not RatingSnapshot.objects.filter(key=key).exists():
        cache.delete(_PENDING_LOCK + key)
        return None
    started = perf_counter()
    result = _compute(params)
    seconds = perf_counter() - started
    values = {
        "params": asdict(params),
        "result": result,
        "battle_count": result.get("battle_total", 0),
        "seconds": seconds,
    }
    snapshot: RatingSnapshot | None
    if create:
        snapshot, created = RatingSnapshot.objects.update_or_create(key=key, defaults=values)
    else:
        updated = RatingSnapshot.objects.filter(key=key).update(computed_at=timezone.now(), **values)
        snapshot, created = RatingSnapshot.objects.filter(key=key).first() if updated else None, False
    cache.delete(_PENDING_LOCK + key)
    if snapshot is None:
        return None
    if created:  # keep within the bound, and open the scan gates: the next verdict must find this snapshot
        snapshots_evict(keep=key)
        transaction.on_commit(lambda: cache.set(_SCAN_VERSION, time_ns(), timeout=None))
    transaction.on_commit(lambda: snapshot_announce(key=key))
    logger.info("snapshot %s refreshed: %s battles in %.2fs", key, snapshot.battle_count, seconds)
    return snapshot


def snapshot_announce(*, key: str) -> None:
    """Tell every open leaderboard/report page that ``key`` has new numbers."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(LIVE_GROUP, {"type": "snapshot.updated", "key": key})
    except Exception:  # a dead channel layer must not fail the refresh that already stored
        logger.exception("could not announce snapshot %s", key)


def snapshots_evict(*, keep: str | None = None) -> int:
    """Delete the snapshots unread for ``ARENA_SNAPSHOT_UNREAD_SECONDS`` and, beyond
    ``ARENA_SNAPSHOT_MAX``, the least recently read ones (never ``keep``). Returns how many."""
    rows = RatingSnapshot.objects.exclude(key=keep) if keep else RatingSnapshot.objects.all()
    deleted, _ = rows.filter(last_read_at__lt=_unread_since()).delete()
    over = RatingSnapshot.objects.count() - settings.ARENA_SNAPSHOT_MAX
    if over > 0:
        oldest = list(rows.order_by("last_read_at", "id").values_list("id", flat=True)[:over])
        deleted += RatingSnapshot.objects.filter(id__in=oldest).delete()[0]
    if deleted:
        logger.info("%s snapshot(s) evicted", deleted)
    return deleted


def _unread_since() -> Any:
    return timezone.now() - timedelta(seconds=settings.ARENA_SNAPSHOT_UNREAD_SECONDS)


# --- Refreshing after the response ------------------------------------------------------------


def _refresh_in_background(key: str) -> None:
    """The job of the background thread (no broker): its own connection, closed after each job."""
    create = key.startswith(_CREATE_PREFIX)
    try:
        snapshot_refresh(key=key.removeprefix(_CREATE_PREFIX), create=create)
    finally:
        close_old_connections()
        connection.close()


# Keys of snapshots to create (a first request) rather than refresh, in the background queue.
_CREATE_PREFIX = "create:"
background_refreshes = DelayedKeys(_refresh_in_background, name="snapshot-refresh")


def _enqueue(key: str, *, countdown: float = 0, create: bool = False) -> None:
    """Refresh (or create) ``key`` after the current transaction commits, never in this request:
    a Celery task with a countdown when there is a broker, else the process's background thread
    (``ARENA_SNAPSHOT_REFRESH_INLINE=1``: the inline task, as tests that read the result at once need)."""
    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.ARENA_SNAPSHOT_REFRESH_INLINE:
        job = _CREATE_PREFIX + key if create else key
        transaction.on_commit(lambda: background_refreshes.schedule(job, countdown))
        return
    args = (key, True) if create else (key,)
    task = task_named("arena.tasks.snapshot_refresh")
    transaction.on_commit(lambda: task.apply_async(args=args, countdown=countdown))


# --- Reading for a page or the API -------------------------------------------------------------


class SnapshotNotAvailable(Exception):
    """Numbers nobody has computed, outside the canonical set, asked for by someone who may not
    start a computation (anonymous requests never create work). ``suggestion`` is the canonical
    query for the same source and prompt set."""

    def __init__(self, params: ReportParams):
        super().__init__(f"{params.key} has not been computed")
        self.params = params
        self.suggestion = params.canonical_query()


def snapshot_is_canonical(params: ReportParams) -> bool:
    """The canonical set, which anyone may have computed: for every source (and ``all``) and
    prompt set (and every set), the leaderboard by Bradley-Terry and by Elo with every other
    parameter at its default; the bias report; the agreement page's default pair; the scores,
    win rate (against the runs' baseline), grades and judges (against the default people's
    source) reports with every other parameter at its default. Each parameter class says
    (``ReportParams.is_canonical``)."""
    return params.is_canonical()


_READ_TOUCH_SECONDS = 60  # last_read_at is this precise: a read costs no write most of the time


def snapshot_read(*, params: ReportParams, may_create: bool) -> SnapshotView:
    """The snapshot a page or the API shows, noting that it was read.

    Missing (or expired) and creatable (``may_create``: staff; or a canonical view): computed now
    when the data are small, else by a worker (or the background thread without a broker) while
    the view says ``computing``. Missing and not creatable: ``SnapshotNotAvailable``.
    """
    view = snapshot_get(key=params.key)
    now = timezone.now()
    if view is not None and view.last_read_at is not None and view.last_read_at < _unread_since():
        RatingSnapshot.objects.filter(key=params.key).delete()  # numbers nobody kept up to date
        view = None
    if view is not None:
        if view.last_read_at is None or (now - view.last_read_at).total_seconds() > _READ_TOUCH_SECONDS:
            RatingSnapshot.objects.filter(key=params.key).update(last_read_at=now)
        return view
    if not (may_create or snapshot_is_canonical(params)):
        raise SnapshotNotAvailable(params)
    if params.size() <= settings.ARENA_SNAPSHOT_SYNC_MAX_BATTLES:  # small: computed at once
        snapshot_refresh(key=params.key)
        return snapshot_get(key=params.key)  # type: ignore[return-value]  # just stored: not None
    if cache.add(_PENDING_LOCK + params.key, 1, timeout=_PENDING_SECONDS):
        _enqueue(params.key, create=True)
    return SnapshotView(key=params.key, result=None)


def _affected(key: str, params: dict[str, Any], sources: set[str], prompt_set: str | None) -> bool:
    """Whether the snapshot stored under ``key`` with ``params`` reads verdicts of ``sources``
    (``all`` among them: every snapshot) on ``prompt_set``."""
    params_class = report_classes().get(key.partition("?")[0])
    if params_class is None:
        return False  # a kind this version does not know: it is never refreshed, only evicted
    used = params_class.sources_in(params)
    if "all" not in sources and not any(s in sources or s == "all" for s in used):
        return False
    return not (prompt_set and params.get("prompt_set") and params["prompt_set"] != prompt_set)


def snapshots_mark_stale(*, source: str, prompt_set: str | None = None) -> list[str]:
    """New verdicts from ``source`` (``human``, ``judge:NAME``, ``import:NAME``) on
    ``prompt_set`` (None: any): schedule a refresh of every stored snapshot that reads them. A
    judge's verdicts are its panels' too: snapshots of ``panel:NAME`` for every panel the judge
    sits on are refreshed with its own.

    Debounced: within ``ARENA_SNAPSHOT_DEBOUNCE_SECONDS`` of the first call for a snapshot,
    further calls do nothing; the refresh runs at the end of the window (after commit, after the
    response), so it sees every verdict written during it. Snapshots unread for
    ``ARENA_SNAPSHOT_UNREAD_SECONDS`` are passed over (they are deleted, not refreshed). Returns
    the keys it scheduled.

    On the vote path this runs for every vote, so the scan of the snapshot rows itself is gated:
    the first call for a (source, prompt set) in a window scans and schedules; later ones in the
    same window return at once (every snapshot they would touch was scheduled by the first one,
    with a refresh at the end of the window), unless a snapshot was created meanwhile.
    """
    if source in (
        "human",
        "all",
    ):  # the anomalous-rater check reads every human vote: computed again when needed
        from reports.selectors.rater_checks import rater_check_forget

        rater_check_forget()
    debounce = settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS
    if debounce > 0:
        gate = f"{_SCAN_GATE}{cache.get(_SCAN_VERSION, 0)}:{source}:{prompt_set or '*'}"
        if not cache.add(gate, 1, timeout=debounce):
            return []
    cache.delete_many([SOURCES_CACHE_KEY, DEFAULT_SOURCE_CACHE_KEY, AGREEMENT_PAIR_CACHE_KEY])
    sources = {source}
    kind, name = parse_source(source)
    if kind == "judge":
        sources |= {f"panel:{panel}" for panel in panels_of_judge(name or "")}
    scheduled = []
    rows = RatingSnapshot.objects.filter(last_read_at__gte=_unread_since()).values_list("key", "params")
    for key, params in rows.iterator():
        if not _affected(key, params or {}, sources, prompt_set):
            continue
        if debounce > 0 and not cache.add(_STALE_LOCK + key, 1, timeout=debounce):
            continue
        _enqueue(key, countdown=debounce)
        scheduled.append(key)
    return scheduled


def snapshots_refresh_all() -> list[str]:
    """Delete expired snapshots (and any beyond the bound), recompute the rest now (the
    ``refresh_snapshots`` command and beat)."""
    snapshots_evict()
    keys = list(RatingSnapshot.objects.order_by("key").values_list("key", flat=True))
    for key in keys:
        snapshot_refresh(key=key, create=False)
    return keys
