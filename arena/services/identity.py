"""Checking stored answers again with the identity filter, e.g. after the filter or the word list
(ARENA_IDENTITY_WORDS) changed. Imports, generation and edits of an answer's text flag answers as
they are written; this is for the ones written before."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from arena.models import Answer, Comparison
from arena.services.imports import answer_reveals_identity

BATCH = 2000


@dataclass(frozen=True)
class IdentityReflag:
    checked: int
    flagged: tuple[int, ...]  # answers now flagged that were not
    cleared: tuple[int, ...]  # answers the filter no longer flags (cleared only when asked)
    cleared_applied: bool
    comparisons: int  # existing comparisons holding a newly flagged answer (left as they are)

    def summary(self) -> str:
        kept = (
            ""
            if self.cleared_applied
            else " (kept flagged: a person may have flagged them; --clear clears them)"
        )
        return (
            f"{self.checked} answers checked: {len(self.flagged)} newly flagged as revealing their model, "
            f"{len(self.cleared)} no longer flagged by the filter{kept}. {self.comparisons} existing comparisons "
            "hold a newly "
            "flagged answer; they stay (votes and judgments may refer to them), new ones leave such answers out."
        )


def answers_identity_reflag(*, dry_run: bool = False, clear: bool = False) -> IdentityReflag:
    """Run every answer's text through the identity filter and flag the answers it now finds; with
    ``clear`` also unflag those it no longer finds (a flag staff set by hand would be lost)."""
    flagged: list[int] = []
    cleared: list[int] = []
    checked = 0
    for answer_id, turns, flag in (
        Answer.objects.order_by("id").values_list("id", "turns", "reveals_identity").iterator(BATCH)
    ):
        checked += 1
        now = answer_reveals_identity(turns)
        if now != flag:
            (flagged if now else cleared).append(answer_id)
    comparisons = Comparison.objects.filter(Q(answer_a_id__in=flagged) | Q(answer_b_id__in=flagged)).count()
    if not dry_run:
        with transaction.atomic():
            Answer.objects.filter(id__in=flagged).update(reveals_identity=True)
            if clear:
                Answer.objects.filter(id__in=cleared).update(reveals_identity=False)
    return IdentityReflag(checked, tuple(flagged), tuple(cleared), clear and not dry_run, comparisons)
