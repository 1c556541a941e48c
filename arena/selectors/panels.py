"""Judge panels as a verdict source: ``panel:<name>`` (Verga et al. 2024, "Replacing judges with
juries").

A panel's verdict on a comparison is the majority of its judges' verdicts on it: each judge's
verdict is its own (both orders combined as its run says, or one per order for the bias
reports), and when no verdict has more votes than every other the panel calls a tie. Only
comparisons at least one member judged are counted. Scores (single-answer grading) are the
mean of the members' scores; grades and HHH choices the majority (see ``evaluations``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef

from arena.ratings.grades import majority
from arena.ratings.types import Battle
from arena.selectors.battles import PANEL_PREFIX, BattleFilter, battles_list


def panel_judges(name: str) -> list[str]:
    """The names of a panel's judges (empty for an unknown panel)."""
    from judge.models import Judge

    return list(Judge.objects.filter(panels__name=name).order_by("name").values_list("name", flat=True))


def panels_of_judge(judge_name: str) -> list[str]:
    from judge.models import JudgePanel

    return list(JudgePanel.objects.filter(judges__name=judge_name).order_by("name").values_list("name", flat=True))


def panels_with_verdicts() -> list[str]:
    """Panels at least one of whose judges has a finished judgment."""
    from judge.models import JudgePanel, Judgment

    done = Judgment.objects.filter(run__judge__panels=OuterRef("pk"), status=Judgment.Status.DONE)
    return list(JudgePanel.objects.filter(Exists(done)).order_by("name").values_list("name", flat=True))


def panel_battles(flt: BattleFilter, name: str) -> Iterator[Battle]:
    """The panel's majority verdict per comparison (and per presentation order with ``per_order``)."""
    groups: dict[tuple[str, int, str | None], list[Battle]] = {}
    for judge in panel_judges(name):
        for battle in battles_list(source=f"judge:{judge}", prompt_set=flt.prompt_set, category=flt.category,
                                   turn=flt.turn, per_order=flt.per_order):
            if battle.comparison is not None:
                groups.setdefault((battle.comparison, battle.turn, battle.first_shown), []).append(battle)
    source = f"{PANEL_PREFIX}{name}"
    for members in groups.values():
        first = members[0]
        votes = [b.model_a if b.winner == "model_a" else b.model_b if b.winner == "model_b" else "tie"
                 for b in members]
        winner_name = majority(votes, tie="tie")
        winner = "model_a" if winner_name == first.model_a else "model_b" if winner_name == first.model_b else "tie"
        yield Battle(
            source=source, model_a=first.model_a, model_b=first.model_b, winner=winner,
            prompt_set=first.prompt_set, prompt=first.prompt, category=first.category, turn=first.turn,
            first_shown=first.first_shown, comparison=first.comparison, rater=source,
            style_a=first.style_a, style_b=first.style_b, tstamp=max((b.tstamp or 0.0) for b in members) or None,
        )
