from celery import shared_task


@shared_task(name="live.tasks.battles_abandon_stale")
def battles_abandon_stale() -> int:
    """Beat: live battles whose socket stopped beating (a restart, a killed process) are marked
    abandoned, even when no new battle socket opens to sweep them."""
    from live.services import stale_abandon

    return stale_abandon()
