"""Writing rating snapshots: compute a leaderboard or report once, store it, tell open pages.

Pages and the API only read ``RatingSnapshot`` rows, so a page over a million battles costs one
indexed read. New verdicts make snapshots stale: whoever writes a vote, judgment or imported
verdict calls ``snapshots_mark_stale``, which enqueues one refresh per affected snapshot per
debounce window (``ARENA_SNAPSHOT_DEBOUNCE_SECONDS``), using the cache as the lock.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from time import perf_counter, time_ns
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from arena.models import RatingSnapshot
from arena.selectors.leaderboards import (
    SOURCES_CACHE_KEY,
    LeaderboardParams,
    SnapshotView,
    leaderboard_compute,
    snapshot_get,
    verdicts_count,
)
from arena.selectors.reports import (
    AgreementParams,
    BiasParams,
    agreement_compute,
    bias_compute,
    params_from_key,
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

Params = LeaderboardParams | BiasParams | AgreementParams


def _compute(params: Params) -> dict[str, Any]:
    from arena.selectors.evaluations import EVALUATION_PARAMS, evaluation_compute

    if isinstance(params, EVALUATION_PARAMS):  # scores, win rates, grades, the judges table
        return evaluation_compute(params=params)
    if isinstance(params, LeaderboardParams):
        return leaderboard_compute(params=params)
    if isinstance(params, BiasParams):
        return bias_compute(params=params)
    return agreement_compute(params=params)


def snapshot_refresh(*, key: str) -> RatingSnapshot:
    """Recompute the snapshot stored under ``key`` and announce it to open pages."""
    params = params_from_key(key)
    started = perf_counter()
    result = _compute(params)
    seconds = perf_counter() - started
    snapshot, created = RatingSnapshot.objects.update_or_create(
        key=key,
        defaults={"params": asdict(params), "result": result,
                  "battle_count": result.get("battle_total", 0), "seconds": seconds},
    )
    cache.delete(_PENDING_LOCK + key)
    if created:  # open the scan gates: the next verdict must find this snapshot
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


def _enqueue(key: str, *, countdown: float = 0) -> None:
    from arena.tasks import snapshot_refresh as snapshot_refresh_task

    transaction.on_commit(lambda: snapshot_refresh_task.apply_async(args=(key,), countdown=countdown))


def snapshot_get_or_schedule(*, params: Params) -> SnapshotView:
    """The stored snapshot; else compute it now when the data are small (or tasks run inline),
    else enqueue one refresh and return a view whose ``computing`` is true."""
    view = snapshot_get(key=params.key)
    if view is not None:
        return view
    sources = [params.a, params.b] if isinstance(params, AgreementParams) else [params.source]
    small = sum(verdicts_count(source=s, prompt_set=params.prompt_set) for s in sources) \
        <= settings.ARENA_SNAPSHOT_SYNC_MAX_BATTLES
    if small or settings.CELERY_TASK_ALWAYS_EAGER:
        snapshot_refresh(key=params.key)
        return snapshot_get(key=params.key)  # type: ignore[return-value]
    if cache.add(_PENDING_LOCK + params.key, 1, timeout=_PENDING_SECONDS):
        _enqueue(params.key)
    return SnapshotView(key=params.key, result=None)


def _affected(params: dict[str, Any], source: str, prompt_set: str | None) -> bool:
    used = [params.get(name) for name in ("source", "a", "b") if params.get(name)]
    if source != "all" and not any(s in (source, "all") for s in used):
        return False
    return not (prompt_set and params.get("prompt_set") and params["prompt_set"] != prompt_set)


def snapshots_mark_stale(*, source: str, prompt_set: str | None = None) -> list[str]:
    """New verdicts from ``source`` (``human``, ``judge:NAME``, ``import:NAME``) on
    ``prompt_set`` (None: any): schedule a refresh of every stored snapshot that reads them.

    Debounced: within ``ARENA_SNAPSHOT_DEBOUNCE_SECONDS`` of the first call for a snapshot,
    further calls do nothing; the refresh runs at the end of the window (after commit), so it
    sees every verdict written during it. Returns the keys it scheduled.

    On the vote path this runs for every vote, so the scan of the snapshot rows itself is gated:
    the first call for a (source, prompt set) in a window scans and schedules; later ones in the
    same window return at once (every snapshot they would touch was scheduled by the first one,
    with a refresh at the end of the window), unless a snapshot was created meanwhile.
    """
    debounce = settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS
    if debounce > 0:
        gate = f"{_SCAN_GATE}{cache.get(_SCAN_VERSION, 0)}:{source}:{prompt_set or '*'}"
        if not cache.add(gate, 1, timeout=debounce):
            return []
    cache.delete(SOURCES_CACHE_KEY)
    scheduled = []
    for key, params in RatingSnapshot.objects.values_list("key", "params").iterator():
        if not _affected(params or {}, source, prompt_set):
            continue
        if debounce > 0 and not cache.add(_STALE_LOCK + key, 1, timeout=debounce):
            continue
        _enqueue(key, countdown=debounce)
        scheduled.append(key)
    return scheduled


def snapshots_refresh_all() -> list[str]:
    """Recompute every stored snapshot now (the ``refresh_snapshots`` command)."""
    keys = list(RatingSnapshot.objects.order_by("key").values_list("key", flat=True))
    for key in keys:
        snapshot_refresh(key=key)
    return keys
