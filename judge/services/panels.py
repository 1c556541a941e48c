"""Judge panels (Verga et al. 2024): a named set of judges whose majority is a source of its own,
``panel:<name>`` (read by ``reports.selectors.panels``), and a panel run that starts one run per
judge at once."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from arena.models import Contender, PromptSet
from judge.models import Judge, JudgePanel, JudgeRun
from judge.services.runs import RunError, judge_run_create


@transaction.atomic
def judge_panel_create(
    *, name: str, judges: Sequence[Judge], description: str = "", update: bool = False
) -> JudgePanel:
    """Create (or with ``update`` replace the judges of) a panel; two judges at least."""
    if len({j.pk for j in judges}) < 2:
        raise RunError("A panel needs at least two different judges (three give a majority without ties).")
    panel, created = JudgePanel.objects.get_or_create(name=name, defaults={"description": description})
    if not created and not update:
        raise RunError(f"A panel named {name!r} exists; pass update to change its judges.")
    if description:
        panel.description = description
        panel.save(update_fields=["description"])
    panel.judges.set(judges)
    return panel


@transaction.atomic
def judge_panel_run_create(
    *,
    panel: JudgePanel,
    prompt_set: PromptSet,
    mode: str = JudgeRun.Mode.PAIRWISE,
    contenders: Sequence[Contender] | None = None,
    baseline: Contender | None = None,
    limit: int | None = None,
    turn: int | None = None,
    inconsistent: str = JudgeRun.Inconsistent.TIE,
    background: bool = True,
) -> list[JudgeRun]:
    """One run per judge of the panel with the same options, all started together after commit."""
    judges = list(panel.judges.order_by("name"))
    if not judges:
        raise RunError(f"Panel {panel.name!r} has no judges.")
    runs = []
    for judge in judges:
        run = judge_run_create(
            judge=judge,
            prompt_set=prompt_set,
            mode=mode,
            contenders=contenders,
            baseline=baseline,
            limit=limit,
            turn=turn,
            inconsistent=inconsistent,
            background=background,
        )
        JudgeRun.objects.filter(pk=run.pk).update(panel=panel)
        run.panel = panel
        runs.append(run)
    return runs
