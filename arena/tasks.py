"""Celery tasks of the arena app (queue "ratings"): thin wrappers that take ids/keys."""

from celery import shared_task

from arena.services import snapshots


@shared_task(name="arena.tasks.snapshot_refresh")
def snapshot_refresh(key: str) -> None:
    """Recompute the rating snapshot stored under ``key`` and tell open pages."""
    snapshots.snapshot_refresh(key=key)
