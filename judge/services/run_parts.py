"""The parts of a run that planning it (``judge.services.runs``) and executing its judgments
(``judge.services.execution``) share: what a request is about, what it costs, and finishing the
run once nothing is pending. Here, below both, so that neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from arena.models import Answer, Prompt
from judge.models import Judge, JudgeRun, Judgment
from judge.prompts import JudgeKind
from judge.services import rendering


@dataclass(frozen=True)
class Target:
    """One planned judge request. Pairwise: ``first``/``second`` in canonical order (order says
    which sits in position A). Single and grade: ``first`` is the judged answer."""

    prompt: Prompt
    turn: int
    first: Answer
    second: Answer | None
    order: int

    def rendered(self, *, template_set: str, kind: JudgeKind) -> rendering.Rendered:
        shown_first, shown_second = self.first, self.second
        if self.second is not None and self.order == 2:
            shown_first, shown_second = self.second, self.first
        return rendering.render_request(
            template_set=template_set,
            kind=kind,
            prompt=self.prompt,
            turn=self.turn,
            first=shown_first,
            second=shown_second,
        )


def cost_of(judge: Judge, input_tokens: int, output_tokens: int) -> Decimal:
    cost = (
        Decimal(input_tokens) * judge.price_input_per_million
        + Decimal(output_tokens) * judge.price_output_per_million
    ) / Decimal(1_000_000)
    return cost.quantize(Decimal("0.000001"))


def judge_run_finish_if_complete(*, run_id: int) -> bool:
    """Mark a running run done (failed when not one judgment succeeded) once nothing is pending;
    True when this call finished it."""
    if Judgment.objects.filter(run_id=run_id, status=Judgment.Status.PENDING).exists():
        return False
    # A run that got no verdict at all (every request failed or was unreadable) failed: it is not "done".
    judged = Judgment.objects.filter(run_id=run_id, status=Judgment.Status.DONE).exists()
    empty = not Judgment.objects.filter(run_id=run_id).exists()
    finished = JudgeRun.objects.filter(pk=run_id, status=JudgeRun.Status.RUNNING).update(
        status=JudgeRun.Status.DONE if judged or empty else JudgeRun.Status.FAILED, finished_at=timezone.now()
    )
    if finished:
        from judge.services.progress import run_progress_report

        run_progress_report(run_id, force=True)
    return bool(finished)
