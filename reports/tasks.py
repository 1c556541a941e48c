"""Celery tasks of the reports app (queue "ratings"): thin wrappers that take keys.

Their names stay ``arena.tasks.*``, the names they had before the reports app existed, so
messages already queued in a running broker (and the beat schedule and task routes in settings)
still find them. Services queue them by name (``arena.celery.task_named``), never by importing
this module, which imports the services.
"""

from celery import shared_task

from reports.selectors import rater_checks
from reports.services import snapshots


@shared_task(name="arena.tasks.snapshot_refresh")
def snapshot_refresh(key: str, create: bool = False) -> None:
    """Recompute the rating snapshot stored under ``key`` (create it only when asked: a stale
    snapshot evicted meanwhile stays evicted) and tell open pages."""
    snapshots.snapshot_refresh(key=key, create=create)


@shared_task(name="arena.tasks.snapshots_refresh_all")
def snapshots_refresh_all() -> int:
    """Beat: recompute every stored snapshot, a safety net behind the per-verdict refresh."""
    return len(snapshots.snapshots_refresh_all())


@shared_task(name="arena.tasks.rater_check_refresh")
def rater_check_refresh() -> None:
    """Recompute the anomalous-rater check of the human votes (``/staff/raters/`` asked for it)."""
    rater_checks.rater_check_refresh()
