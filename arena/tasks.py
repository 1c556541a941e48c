"""Celery tasks of the arena app (queue "ratings"): thin wrappers that take ids/keys."""

from celery import shared_task

from reports.services import snapshots


@shared_task(name="arena.tasks.snapshot_refresh")
def snapshot_refresh(key: str, create: bool = False) -> None:
    """Recompute the rating snapshot stored under ``key`` (create it only when asked: a stale
    snapshot evicted meanwhile stays evicted) and tell open pages."""
    snapshots.snapshot_refresh(key=key, create=create)


@shared_task(name="arena.tasks.leases_expire")
def leases_expire() -> int:
    """Beat: mark lapsed leases ``expired`` so the admin and staff pages say what happened.

    The queue already goes by the clock (a lapsed lease is free again at once); this only keeps
    the stored status honest.
    """
    from arena.services.leases import leases_expire as expire

    return expire()


@shared_task(name="arena.tasks.snapshots_refresh_all")
def snapshots_refresh_all() -> int:
    """Beat: recompute every stored snapshot, a safety net behind the per-verdict refresh."""
    return len(snapshots.snapshots_refresh_all())


@shared_task(name="arena.tasks.rater_check_refresh")
def rater_check_refresh() -> None:
    """Recompute the anomalous-rater check of the human votes (``/staff/raters/`` asked for it)."""
    from reports.selectors.rater_checks import rater_check_refresh as refresh

    refresh()
