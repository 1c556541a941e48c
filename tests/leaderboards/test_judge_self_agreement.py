"""A judge's agreement with itself across repeated runs (issue 18, point 5): within one judge
source every run is a rater of its own, so two runs on the same comparisons give one pair per
comparison and turn, counted as MT-Bench counts human-human agreement. The two orders of one
run are the same rater (never a pair), and a verdict the judgment cache answered is left out.
What other readers see as the judge's rater does not change."""

from __future__ import annotations

import io
import itertools
import json
import random
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from judge.models import Judge, JudgeRun, Judgment
from reports.selectors.battle_records import battles_list

WINNERS = ("model_a", "model_b", "tie")
SOURCE = "judge:self-judge"


def _comparisons(arena):
    return [
        arena.comparison(prompt, m1, m2, turn)
        for prompt in arena.prompts
        for m1, m2 in itertools.combinations(list(arena.contenders), 2)
        for turn in (1, 2)
    ]


def _run(judge, arena, verdicts, *, policy="tie", from_cache=False):
    """One run judging every comparison in both orders: ``verdicts`` maps a comparison to the
    winner of each order (the same twice when the orders agree)."""
    run = JudgeRun.objects.create(
        judge=judge, prompt_set=arena.prompt_set, inconsistent=policy, status=JudgeRun.Status.DONE
    )
    at = timezone.now()
    Judgment.objects.bulk_create(
        Judgment(
            run=run,
            comparison=comparison,
            order=order,
            turn=comparison.turn,
            status=Judgment.Status.DONE,
            winner=winner,
            from_cache=from_cache,
            completed_at=at + timedelta(seconds=i),
        )
        for i, (comparison, pair) in enumerate(verdicts.items())
        for order, winner in zip((1, 2), pair, strict=True)
    )
    return run


def _combined(pair, policy):
    """One run's verdict on a comparison: its two orders when they agree, else a tie (or nothing)."""
    return pair[0] if pair[0] == pair[1] else ("tie" if policy == "tie" else None)


@pytest.fixture
def two_runs(arena):
    """Two runs of one judge on 18 comparisons x 2 turns; the second run's orders disagree now and then."""
    rng = random.Random(11)
    judge = Judge.objects.create(name="self-judge", model="self-judge")
    comparisons = _comparisons(arena)
    first = {c: (w, w) for c in comparisons for w in [rng.choice(WINNERS)]}
    second = {
        c: (rng.choice(WINNERS), rng.choice(WINNERS)) if rng.random() < 0.2 else (w, w)
        for c in comparisons
        for w in [rng.choice(WINNERS)]
    }
    runs = [_run(judge, arena, first), _run(judge, arena, second)]
    pairs = [(_combined(first[c], "tie"), _combined(second[c], "tie")) for c in comparisons]
    decisive = [(x, y) for x, y in pairs if "tie" not in (x, y)]
    expected = {
        "comparisons": len(comparisons),
        "pairs": len(pairs),
        "agreeing": sum(x == y for x, y in pairs),
        "pairs_without_ties": len(decisive),
        "agreeing_without_ties": sum(x == y for x, y in decisive),
    }
    return SimpleNamespace(judge=judge, runs=runs, comparisons=comparisons, expected=expected)


def _report(**query) -> dict:
    out = io.StringIO()
    call_command(
        "agreement",
        "--a",
        SOURCE,
        "--b",
        SOURCE,
        "--bootstrap",
        "0",
        "--format",
        "json",
        *itertools.chain.from_iterable((f"--{k}", v) for k, v in query.items()),
        stdout=out,
    )
    return json.loads(out.getvalue())


def test_two_runs_of_one_judge_give_a_pair_per_comparison_and_turn(two_runs, staff_client):
    expected = two_runs.expected
    assert (
        expected["pairs"] == 36 and 0 < expected["agreeing"] < 36
    )  # 3 pairs of models x 6 prompts x 2 turns

    report = _report()
    overall = report["overall"]
    assert {k: overall[k] for k in expected} == expected
    assert overall["agreement_with_ties"] == pytest.approx(expected["agreeing"] / 36)
    assert overall["agreement_without_ties"] == pytest.approx(
        expected["agreeing_without_ties"] / expected["pairs_without_ties"]
    )
    assert [row["pairs"] for row in report["per_turn"]] == [18, 18]
    assert report["within_source"] and report["judge_runs_as_raters"]

    api = staff_client.get("/api/agreement/", {"a": SOURCE, "b": SOURCE, "bootstrap": "0"})
    assert api.status_code == 200
    assert {k: api.json()["overall"][k] for k in expected} == expected

    html = staff_client.get("/agreement/", {"a": SOURCE, "b": SOURCE, "bootstrap": "0"}).content.decode()
    cell = re.search(r'<tr data-turn="all">.*?data-field="agreement_with_ties">([^<]*)<', html, re.S).group(1)
    assert cell.startswith(f"{expected['agreeing']}/36 = ")
    cell = re.search(
        r'<tr data-turn="all">.*?data-field="agreement_without_ties">([^<]*)<', html, re.S
    ).group(1)
    assert cell.startswith(f"{expected['agreeing_without_ties']}/{expected['pairs_without_ties']} = ")
    assert 'id="judge-runs-as-raters"' in html and "never a pair" in html


def test_the_two_orders_of_one_run_are_not_a_pair(arena):
    judge = Judge.objects.create(name="self-judge", model="self-judge")
    comparisons = _comparisons(arena)
    _run(
        judge, arena, dict.fromkeys(comparisons, ("model_a", "model_b"))
    )  # every comparison: orders disagree
    with pytest.raises(CommandError, match="Only 0 verdict pairs"):
        _report()


def test_a_verdict_the_cache_answered_is_no_sample_of_its_own(arena, two_runs):
    # A third run answered from the cache repeats earlier answers: it adds no pairs.
    _run(
        two_runs.judge,
        arena,
        {c: (w, w) for c, w in zip(two_runs.comparisons, itertools.cycle(WINNERS))},
        from_cache=True,
    )
    assert {k: _report()["overall"][k] for k in two_runs.expected} == two_runs.expected


def test_other_readers_still_see_the_judge_as_one_rater(two_runs):
    assert {battle.rater for battle in battles_list(source=SOURCE)} == {"self-judge"}
    # The runs as raters are named after the judge and the run, so ``raters`` can choose them.
    assert _report(raters="self-judge#run")["overall"]["pairs"] == 36
    with pytest.raises(CommandError, match="Only 0 verdict pairs"):
        _report(raters=f"self-judge#run{two_runs.runs[0].id}")
