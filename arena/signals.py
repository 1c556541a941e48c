"""Keep rating snapshots fresh: every saved or deleted vote or finished judgment marks the
snapshots that read it stale (debounced in ``snapshots_mark_stale``).

Imported verdicts are written with ``bulk_create``, which sends no signals: the import
service calls ``snapshots_mark_stale`` itself once per file.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from arena.models import Vote
from reports.services.snapshots import snapshots_mark_stale


def _prompt_set_of_comparison(comparison_id: int | None) -> str | None:
    from arena.models import Comparison

    if comparison_id is None:
        return None
    return (Comparison.objects.filter(pk=comparison_id)
            .values_list("prompt__prompt_set__slug", flat=True).first())


def _prompt_set_of_vote(vote: Vote) -> str | None:
    """The vote's prompt set; on the vote path the rating page has just shown the comparison, so
    its slug is at hand without a query."""
    from arena.selectors.queue import comparison_prompt_set_cached

    return comparison_prompt_set_cached(vote.comparison_id) or _prompt_set_of_comparison(vote.comparison_id)


@receiver([post_save, post_delete], sender=Vote, dispatch_uid="arena.vote_marks_snapshots_stale")
def vote_changed(sender: type[Vote], instance: Vote, **kwargs: Any) -> None:
    snapshots_mark_stale(source="human", prompt_set=_prompt_set_of_vote(instance))


def judgment_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A finished judgment: a pairwise verdict, a score (an unparsed score counts as unparsed), a
    grade or HHH choices; the snapshots of its judge (and its panels) read it."""
    if instance.status not in ("done", "unparsed"):
        return
    judge_name, prompt_set = (type(instance).objects.filter(pk=instance.pk).values_list(
        "run__judge__name", "run__prompt_set__slug").first() or (None, None))
    if judge_name:
        snapshots_mark_stale(source=f"judge:{judge_name}", prompt_set=prompt_set)


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

    from judge.models import Judgment

    post_save.connect(staff_left, sender=get_user_model(), dispatch_uid="arena.staff_left_revokes_invites")

    post_save.connect(judgment_saved, sender=Judgment, dispatch_uid="arena.judgment_marks_snapshots_stale")
