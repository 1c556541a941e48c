"""A judge with itself across repeated runs, judged for real (the fake LLM server through the
openai client): a rerun the judgment cache answers adds no pair; a run that asked the judge again
(another temperature) pairs with the first, one pair per comparison and turn, counted from its
two orders combined."""

from __future__ import annotations

import io
import json
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command

from judge.models import JudgeRun, Judgment


def _agreement(source: str) -> dict:
    out = io.StringIO()
    call_command(
        "agreement", "--a", source, "--b", source, "--bootstrap", "0", "--format", "json", stdout=out
    )
    return json.loads(out.getvalue())


def _verdicts(run: JudgeRun) -> dict[tuple[int, int], str]:
    """Each comparison and turn's verdict of ``run``: its two orders when they agree, else a tie."""
    orders: dict[tuple[int, int], list[str]] = defaultdict(list)
    for comparison, turn, winner in run.judgments.filter(status=Judgment.Status.DONE).values_list(
        "comparison_id", "turn", "winner"
    ):
        orders[(comparison, turn)].append(winner)
    return {key: pair[0] if pair[0] == pair[1] else "tie" for key, pair in orders.items() if len(pair) == 2}


def test_only_runs_that_asked_the_judge_again_pair(judge, battle_set, start_run, llm, settings):
    settings.ARENA_AGREEMENT_MIN_PAIRS = 1
    source = f"judge:{judge.name}"
    first = start_run(judge=judge, prompt_set=battle_set)
    assert (
        first.status == JudgeRun.Status.DONE and first.judgments.count() == 12
    )  # 2 prompts x 3 pairs x 2 orders

    rerun = start_run(judge=judge, prompt_set=battle_set)  # the same questions: the cache answers them all
    assert rerun.judgments.filter(from_cache=True).count() == 12
    with pytest.raises(CommandError, match="Only 0 verdict pairs"):
        _agreement(source)

    judge.temperature = 0.7  # another sampling setting: the judge is asked again
    judge.save(update_fields=["temperature"])
    llm.configure(first_position_bias=0.5)  # and now and then answers "the first one", whichever it is
    again = start_run(judge=judge, prompt_set=battle_set)
    assert again.judgments.filter(from_cache=True).count() == 0

    mine, theirs = _verdicts(first), _verdicts(again)
    assert len(mine) == len(theirs) == 6
    pairs = [(mine[key], theirs[key]) for key in mine]
    decisive = [(x, y) for x, y in pairs if "tie" not in (x, y)]
    assert 0 < sum(x == y for x, y in pairs) < 6  # the biased run disagrees with the first on some

    overall = _agreement(source)["overall"]
    assert (overall["comparisons"], overall["pairs"], overall["agreeing"]) == (
        6,
        6,
        sum(x == y for x, y in pairs),
    )
    assert (overall["pairs_without_ties"], overall["agreeing_without_ties"]) == (
        len(decisive),
        sum(x == y for x, y in decisive),
    )
