"""Celery tasks of the arena app (queue "ratings"): thin wrappers that take ids/keys."""

from celery import shared_task


@shared_task(name="arena.tasks.leases_expire")
def leases_expire() -> int:
    """Beat: mark lapsed leases ``expired`` so the admin and staff pages say what happened.

    The queue already goes by the clock (a lapsed lease is free again at once); this only keeps
    the stored status honest.
    """
    from arena.services.leases import leases_expire as expire

    return expire()
