"""What a rater in training sees after the reveal (``ARENA_REVEAL_TRAINING``): the prompt's
reference answer, and the verdicts imported from experts and LLM judges on the same prompt,
turn and pair of models — all in the rater's screen terms, so "A" is the answer that was on
their left whichever way round the source stored the pair.

Read only after the rater's own vote is stored: nothing here may reach a page before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from arena.markdown import render_markdown
from arena.models import Comparison, ImportedVerdict
from arena.selectors.queue import CHOICE_LABELS


@dataclass(frozen=True)
class PastVerdict:
    source: str  # the verdict source's name, e.g. mtbench-human
    human: bool
    rater: str  # who in the source gave it, if it says
    choice: str  # "A", "B", "tie" or "both_bad", A being the rater's left answer
    first_shown: str  # "A" or "B": which the source's rater or judge saw first; "" when unknown

    @property
    def choice_label(self) -> str:
        return CHOICE_LABELS.get(self.choice, self.choice)


@dataclass(frozen=True)
class Training:
    references: list[tuple[int, str]]  # (turn, sanitised HTML) for the turns up to the judged one
    verdicts: list[PastVerdict]

    @property
    def empty(self) -> bool:
        return not self.references and not self.verdicts


def reveal_training_get(*, comparison_id: int, a_shown_first: bool) -> Training:
    comparison = (
        Comparison.objects.select_related("prompt", "answer_a", "answer_b")
        .only("turn", "prompt__references", "answer_a__contender_id", "answer_b__contender_id")
        .get(pk=comparison_id)
    )
    a, b = comparison.answer_a.contender_id, comparison.answer_b.contender_id
    left, right = (a, b) if a_shown_first else (b, a)
    references = comparison.prompt.references if isinstance(comparison.prompt.references, list) else []
    verdicts = (
        ImportedVerdict.objects.filter(prompt_id=comparison.prompt_id, turn=comparison.turn)
        .filter(Q(model_a_id=left, model_b_id=right) | Q(model_a_id=right, model_b_id=left))
        .exclude(winner="")
        .select_related("source")
        .order_by("source__name", "judged_order", "id")
    )

    def screen(contender_id: int) -> str:
        return "A" if contender_id == left else "B"

    return Training(
        references=[
            (turn, render_markdown(str(text)))
            for turn, text in enumerate(references[: comparison.turn], start=1)
            if text
        ],
        verdicts=[
            PastVerdict(
                source=v.source.name,
                human=v.source.is_human,
                rater=v.rater,
                choice={"model_a": screen(v.model_a_id), "model_b": screen(v.model_b_id)}.get(
                    v.winner, v.winner
                ),
                first_shown=screen(v.model_a_id) if v.position_known else "",
            )
            for v in verdicts
        ],
    )
