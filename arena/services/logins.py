"""Slowing down password guessing: failed log-ins are throttled per account and per client address.

Both the site's login and the admin's count here (``arena.forms``). A key — the account name
tried, or the client's address — that has ``ARENA_LOGIN_FAILURES_PER_ACCOUNT`` (resp.
``_PER_ADDRESS``) failures within the last ``ARENA_LOGIN_WINDOW_SECONDS`` is refused without the
password being checked, until the oldest of those failures leaves the window. Refused attempts
are not counted, so the real user is never locked out for longer than the window after the
guessing stops; a successful log-in clears its account's failures.

The failures live in the database, not in Redis: logging in — and its throttle — must keep
working when Redis is down. A failure costs one INSERT (and a DELETE of rows that have left
the window); a log-in attempt two indexed COUNTs.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from arena.models import LoginFailure


@dataclass(frozen=True)
class Throttled:
    """Why a log-in attempt is refused, and for how long."""

    scope: str  # "account" | "address"
    retry_after: float  # seconds

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        whom = "for this account" if self.scope == "account" else "from your network address"
        return (
            f"Too many failed log-ins {whom}. For your safety, log-in is paused: try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}."
        )


def client_address(request: HttpRequest) -> str:
    """The address a request came from (see :func:`address_of`)."""
    return address_of(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def address_of(peer: str, forwarded_for: str) -> str:
    """The client's address from the socket's ``peer`` and the ``X-Forwarded-For`` header: its
    last entry (the one our own proxy added) when BEHIND_PROXY is on, else the peer. IPv6
    addresses count by their /64, the block one client usually holds. Pages and sockets both ask
    here, so a limit per address counts the same client the same way."""
    raw = peer or ""
    if settings.BEHIND_PROXY:
        raw = (forwarded_for or "").split(",")[-1].strip() or raw
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _account(username: str) -> str:
    return username.strip().casefold()[:150]


def _wait(query: QuerySet[LoginFailure], limit: int, window: timedelta, now: datetime) -> float:
    """Seconds until fewer than ``limit`` failures of ``query`` are left in the window (0: now)."""
    recent = list(query.filter(at__gt=now - window).order_by("-at").values_list("at", flat=True)[:limit])
    if len(recent) < limit:
        return 0.0
    return max((recent[-1] + window - now).total_seconds(), 1.0)


def login_throttle_get(*, username: str, address: str, now: datetime | None = None) -> Throttled | None:
    """Whether an attempt for ``username`` from ``address`` must be refused now."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.ARENA_LOGIN_WINDOW_SECONDS)
    by_address = _wait(
        LoginFailure.objects.filter(address=address), settings.ARENA_LOGIN_FAILURES_PER_ADDRESS, window, now
    )
    if by_address:
        return Throttled("address", by_address)
    by_account = _wait(
        LoginFailure.objects.filter(username=_account(username)),
        settings.ARENA_LOGIN_FAILURES_PER_ACCOUNT,
        window,
        now,
    )
    return Throttled("account", by_account) if by_account else None


def login_failure_record(*, username: str, address: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    LoginFailure.objects.filter(at__lte=now - timedelta(seconds=settings.ARENA_LOGIN_WINDOW_SECONDS)).delete()
    LoginFailure.objects.create(username=_account(username), address=address, at=now)


def login_failures_clear(*, username: str) -> None:
    """The account's owner got in: their earlier typos no longer count (the address's still do)."""
    LoginFailure.objects.filter(username=_account(username)).delete()
