"""Keep rating snapshots fresh: every saved or deleted vote, finished judgment or other new
verdict marks the snapshots that read it stale (debounced in ``snapshots_mark_stale``).

Votes and judgments are seen through their model signals; writers whose bulk writes send none
(imports, judging's ``.update()``, live battles, a new prompt-set version) send
``arena.signals.verdicts_changed`` once per batch.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from arena.models import Comparison, Vote
from arena.selectors.queue import comparison_prompt_set_cached
from arena.signals import verdicts_changed
from judge.models import Judgment
from reports.services.snapshots import snapshots_mark_stale


def _prompt_set_of_comparison(comparison_id: int | None) -> str | None:
    if comparison_id is None:
        return None
    return (
        Comparison.objects.filter(pk=comparison_id).values_list("prompt__prompt_set__slug", flat=True).first()
    )


def _prompt_set_of_vote(vote: Vote) -> str | None:
    """The vote's prompt set; on the vote path the rating page has just shown the comparison, so
    its slug is at hand without a query."""
    return comparison_prompt_set_cached(vote.comparison_id) or _prompt_set_of_comparison(vote.comparison_id)


def vote_changed(sender: type[Vote], instance: Vote, **kwargs: Any) -> None:
    snapshots_mark_stale(source="human", prompt_set=_prompt_set_of_vote(instance))


def judgment_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A finished judgment: a pairwise verdict, a score (an unparsed score counts as unparsed), a
    grade or HHH choices; the snapshots of its judge (and its panels) read it."""
    if instance.status not in ("done", "unparsed"):
        return
    judge_name, prompt_set = type(instance).objects.filter(pk=instance.pk).values_list(
        "run__judge__name", "run__prompt_set__slug"
    ).first() or (None, None)
    if judge_name:
        snapshots_mark_stale(source=f"judge:{judge_name}", prompt_set=prompt_set)


def verdicts_announced(sender: Any, *, source: str, prompt_set: str | None = None, **kwargs: Any) -> None:
    snapshots_mark_stale(source=source, prompt_set=prompt_set)


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(vote_changed, sender=Vote, dispatch_uid="reports.vote_marks_snapshots_stale")
    post_save.connect(judgment_saved, sender=Judgment, dispatch_uid="reports.judgment_marks_snapshots_stale")
    verdicts_changed.connect(verdicts_announced, dispatch_uid="reports.verdicts_mark_snapshots_stale")
