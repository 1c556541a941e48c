"""Rater accounts: invite links and sign-up.

Invites are signed tokens (``django.core.signing``), not rows: a link carries the pool to join
and expires after ``ARENA_INVITE_MAX_AGE_DAYS``. Without an invite, sign-up is open only when
``ARENA_OPEN_SIGNUP`` is on.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction

from arena.models import RaterPool

_INVITE_SALT = "arena.rater-invite"


class InviteInvalid(ValueError):
    """The invite link is forged, mistyped or too old."""


def rater_invite_create(*, pool: RaterPool | None, created_by: AbstractBaseUser) -> str:
    """A signed invite token; whoever signs up with it joins ``pool`` (if any)."""
    return signing.dumps({"pool": pool.pk if pool else None, "by": created_by.pk}, salt=_INVITE_SALT)


def rater_invite_read(*, token: str) -> RaterPool | None:
    """The pool an invite token grants (None: no pool). Raises InviteInvalid."""
    try:
        data = signing.loads(token, salt=_INVITE_SALT, max_age=settings.ARENA_INVITE_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired:
        raise InviteInvalid("This invite link has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise InviteInvalid("This invite link is not valid.") from None
    pool_id = data.get("pool")
    if pool_id is None:
        return None
    pool = RaterPool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise InviteInvalid("The rater pool of this invite no longer exists.")
    return pool


@transaction.atomic
def rater_create(*, username: str, password: str, email: str = "", pool: RaterPool | None = None):  # type: ignore[no-untyped-def]
    """Create a rater account (not staff) and add it to ``pool``."""
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    if pool is not None:
        pool.members.add(user)
    return user
