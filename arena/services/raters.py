"""Rater accounts: invite links and sign-up.

An invite is a row (``Invite``) reached through a random token in the link: it is good for a
number of sign-ups (default 1), for ``ARENA_INVITE_MAX_AGE_DAYS``, until staff revoke it, and only
while its creator is active staff (deleting the creator deletes it). A sign-up takes one use in
the same transaction that creates the account, with a conditional UPDATE, so two people racing
for the last use cannot both get it. Without an invite, sign-up is open only when
``ARENA_OPEN_SIGNUP`` is on.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arena.models import Invite, RaterPool

# The most sign-ups one link may be made for (a study's cohort, not the whole internet).
INVITE_MAX_USES = 1000


class InviteInvalid(ValueError):
    """The invite link is forged, mistyped, used up, revoked, too old or its creator left."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rater_invite_create(*, pool: RaterPool | None, created_by: User, uses: int = 1) -> str:
    """A new invite link's token: good for ``uses`` sign-ups into ``pool`` (if any)."""
    if not 1 <= uses <= INVITE_MAX_USES:
        raise ValueError(f"uses must be between 1 and {INVITE_MAX_USES}")
    if not (created_by.is_active and getattr(created_by, "is_staff", False)):
        raise InviteInvalid("Only active staff can create invites.")
    token = secrets.token_urlsafe(24)
    Invite.objects.create(
        token_hash=_token_hash(token),
        pool=pool,
        created_by=created_by,
        max_uses=uses,
        expires_at=timezone.now() + timedelta(days=settings.ARENA_INVITE_MAX_AGE_DAYS),
    )
    return token


def rater_invite_read(*, token: str) -> Invite:
    """The invite behind ``token`` if it can still be used; raises InviteInvalid saying why not."""
    invite = (
        (
            Invite.objects.select_related("pool", "created_by")
            .filter(token_hash=_token_hash(token[:200]))
            .first()
        )
        if token
        else None
    )
    if invite is None:
        raise InviteInvalid("This invite link is not valid.")
    if invite.revoked_at is not None:
        raise InviteInvalid("This invite link was withdrawn; ask for a new one.")
    if not (invite.created_by.is_active and invite.created_by.is_staff):
        raise InviteInvalid("This invite link is no longer valid; ask the study's staff for a new one.")
    if invite.expires_at <= timezone.now():
        raise InviteInvalid("This invite link has expired; ask for a new one.")
    if invite.uses >= invite.max_uses:
        raise InviteInvalid("This invite link has been used up; ask for a new one.")
    return invite


def rater_invite_revoke(*, invite_id: int) -> bool:
    """Withdraw an invite; True if it was still open."""
    return bool(
        Invite.objects.filter(pk=invite_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )


def rater_invites_revoke_for(*, user: User) -> int:
    """Withdraw every open invite ``user`` made (they stopped being active staff)."""
    return Invite.objects.filter(created_by=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def rater_create(*, username: str, password: str, email: str = "", invite_token: str = "") -> User:
    """Create a rater account (not staff); with an invite, take one of its uses and join its pool.

    Raises InviteInvalid (and creates nothing) when the invite cannot be used.
    """
    pool = None
    if invite_token:
        invite = rater_invite_read(token=invite_token)
        taken = Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True, uses__lt=F("max_uses")).update(
            uses=F("uses") + 1
        )
        if not taken:
            raise InviteInvalid("This invite link has been used up; ask for a new one.")
        pool = invite.pool
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    if pool is not None:
        pool.members.add(user)
    return user
