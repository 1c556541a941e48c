"""Judge panels as a verdict source: ``panel:<name>`` (Verga et al. 2024, "Replacing judges with
juries").

A panel's verdict on a comparison is the majority of its judges' verdicts on it: each judge's
verdict is its own (both orders combined as its run says, or one per order for the bias
reports), and when no verdict has more votes than every other the panel calls a tie. Only
comparisons at least one member judged are counted. Scores (single-answer grading) are the
mean of the members' scores; grades and HHH choices the majority (see ``evaluations``).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef


def panel_judges(name: str) -> list[str]:
    """The names of a panel's judges (empty for an unknown panel)."""
    from judge.models import Judge

    return list(Judge.objects.filter(panels__name=name).order_by("name").values_list("name", flat=True))


def panels_of_judge(judge_name: str) -> list[str]:
    from judge.models import JudgePanel

    return list(
        JudgePanel.objects.filter(judges__name=judge_name).order_by("name").values_list("name", flat=True)
    )


def panels_with_verdicts() -> list[str]:
    """Panels at least one of whose judges has a finished judgment."""
    from judge.models import JudgePanel, Judgment

    done = Judgment.objects.filter(run__judge__panels=OuterRef("pk"), status=Judgment.Status.DONE)
    return list(JudgePanel.objects.filter(Exists(done)).order_by("name").values_list("name", flat=True))
