"""Housekeeping of rater leases."""

from __future__ import annotations

from django.utils import timezone

from arena.models import Assignment


def leases_expire() -> int:
    """Mark leased, unvoted assignments whose time ran out as expired; returns how many."""
    return Assignment.objects.filter(status=Assignment.Status.LEASED, expires_at__lte=timezone.now()).update(
        status=Assignment.Status.EXPIRED
    )
