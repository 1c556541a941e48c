"""The core's own receivers, connected by ``ArenaConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save


def staff_left(sender: type, instance: Any, **kwargs: Any) -> None:
    """A user who is no longer active staff takes their open invites with them."""
    fields = kwargs.get("update_fields")
    if fields is not None and not {"is_staff", "is_active"} & set(fields):
        return  # e.g. last_login on every log-in
    if not (instance.is_staff and instance.is_active):
        from arena.services.raters import rater_invites_revoke_for

        rater_invites_revoke_for(user=instance)


def connect() -> None:
    from django.contrib.auth import get_user_model

    post_save.connect(staff_left, sender=get_user_model(), dispatch_uid="arena.staff_left_revokes_invites")
