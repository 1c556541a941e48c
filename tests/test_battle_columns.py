"""The columnar reader gives what the per-row reader gave, and every computation the same numbers.

``previous_battles`` is the reader as it was (one ``Battle`` per row); the database here holds
every kind of verdict: votes with either side first, judge runs whose orders agree, disagree
(tie and drop policies) or lack a partner, two turns, imported verdicts linked to prompts and
not, with and without raters, positions and timestamps, two prompt sets and categories.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from arena.models import Assignment, ImportBatch, ImportedVerdict, VerdictSource, Vote
from arena.ratings import BattleArrays, compute_leaderboard, inter_rater_agreement, length_bias
from arena.ratings import agreement as agreement_of
from arena.ratings.bias import consistency_table, length_table, position_table
from judge.models import Judge, JudgeRun, Judgment
from reports.selectors.battle_columns import battle_arrays, battle_counts
from reports.selectors.battle_records import battles_list
from reports.selectors.battles import BattleFilter
from reports.selectors.leaderboards import LeaderboardParams, jsonable, leaderboard_compute
from reports.selectors.reports import (
    AgreementParams,
    BiasParams,
    agreement_compute,
    bias_compute,
    combined_order_sources,
)
from tests import factories
from tests.conftest import module_data
from tests.previous_battles import previous_battles_list

pytestmark = pytest.mark.django_db
MODELS = ("alpha", "beta", "gamma", "delta")
WINNERS = ("model_a", "model_b", "tie", "both_bad")


@pytest.fixture(scope="module")
def _verdicts_written(django_db_setup, django_db_blocker):
    """Written once for the module's twenty tests, which only read them."""
    with module_data(django_db_blocker):
        _write_verdicts()
        yield


@pytest.fixture
def verdicts(_verdicts_written, db):
    """Every kind of verdict (see the module's docstring)."""


def _write_verdicts() -> None:
    rng = random.Random(7)
    sets = [factories.prompt_set("one"), factories.prompt_set("two")]
    prompts = [
        factories.prompt(
            sets[i % 2],
            external_id=f"q{i}",
            category=("math", "writing")[i % 3 == 0],
            turns=("First?", "Second?"),
        )
        for i in range(6)
    ]
    for p in prompts:
        for m in MODELS:
            factories.answer(
                p,
                m,
                f"{m} on {p.external_id}: " + "word " * rng.randint(1, 40),
                "- a\n- b\n" * rng.randint(0, 3) + "**x**" * rng.randint(0, 2),
            )
    comparisons = [
        factories.comparison(p, a, b, turn=t)
        for p in prompts
        for a, b in [("alpha", "beta"), ("beta", "gamma"), ("alpha", "delta"), ("gamma", "delta")]
        for t in (1, 2)
    ]
    raters = [get_user_model().objects.create_user(f"rater{i}") for i in range(4)]
    later = timezone.now()
    for _ in range(120):
        rater, comparison = rng.choice(raters), rng.choice(comparisons)
        if Vote.objects.filter(rater=rater, comparison=comparison).exists():
            continue
        first = rng.random() < 0.5
        assignment = Assignment.objects.create(
            rater=rater,
            comparison=comparison,
            a_shown_first=first,
            status="voted",
            expires_at=later + timedelta(minutes=5),
        )
        Vote.objects.create(
            rater=rater,
            comparison=comparison,
            assignment=assignment,
            a_shown_first=first,
            winner=rng.choice(WINNERS),
        )
    for name, policy in (("judge-tie", "tie"), ("judge-drop", "drop")):
        run = JudgeRun.objects.create(
            judge=Judge.objects.create(name=name, model=name), prompt_set=sets[0], inconsistent=policy
        )
        for i, comparison in enumerate(comparisons):
            for order in (1, 2) if i % 7 else (1,):  # some judgments lack their second order
                Judgment.objects.create(
                    run=run,
                    comparison=comparison,
                    order=order,
                    turn=comparison.turn,
                    status=Judgment.Status.DONE,
                    winner=rng.choice(WINNERS[:3]),
                    completed_at=later + timedelta(seconds=rng.randint(0, 10_000)),
                )
    source = VerdictSource.objects.create(name="crowd", is_human=True)
    batch = ImportBatch.objects.create(
        kind="verdicts", source="crowd", file_name="f", sha256="x", format="jsonl"
    )
    contenders = {m: factories.contender(m) for m in MODELS}
    for line in range(150):
        a, b = rng.sample(MODELS, 2) if line % 50 else (MODELS[0], MODELS[0])  # and a model against itself
        linked = line % 3 != 0
        ImportedVerdict.objects.create(
            source=source,
            batch=batch,
            line=line,
            model_a=contenders[a],
            model_b=contenders[b],
            winner=rng.choice((*WINNERS, "")),
            prompt=rng.choice(prompts) if linked else None,
            question_ref=f"q{rng.randint(0, 5)}" if line % 5 else "",
            turn=rng.choice((1, 2)),
            position_known=line % 4 != 0,
            rater=rng.choice(("", "ann", "bob", "cy")),
            tstamp=None if line % 11 == 0 else float(line),
        )


FILTERS = [
    BattleFilter("all"),
    BattleFilter("all", per_order=True),
    BattleFilter("human"),
    BattleFilter("judge:judge-tie"),
    BattleFilter("judge:judge-drop", per_order=True),
    BattleFilter("import:crowd"),
    BattleFilter("all", prompt_set="two"),
    BattleFilter("all", category="writing"),
    BattleFilter("all", turn=2),
]


@pytest.mark.parametrize("flt", FILTERS, ids=str)
def test_battle_records_are_the_previous_readers_records(verdicts, flt):
    previous = previous_battles_list(
        source=flt.source,
        prompt_set=flt.prompt_set,
        category=flt.category,
        turn=flt.turn,
        per_order=flt.per_order,
    )
    assert len(previous) > 5
    assert (
        battles_list(
            source=flt.source,
            prompt_set=flt.prompt_set,
            category=flt.category,
            turn=flt.turn,
            per_order=flt.per_order,
        )
        == previous
    )


@pytest.mark.parametrize("flt", FILTERS, ids=str)
def test_arrays_and_counts_are_those_of_the_previous_records(verdicts, flt):
    from arena.ratings import BattleArrays
    from arena.ratings.arrays import outcome_counts

    previous = previous_battles_list(
        source=flt.source,
        prompt_set=flt.prompt_set,
        category=flt.category,
        turn=flt.turn,
        per_order=flt.per_order,
    )
    expected = BattleArrays.from_battles(previous)
    read = battle_arrays(flt, style=True)
    assert read.total == len(previous)
    got = read.arrays
    assert got.models == expected.models
    for name in (
        "model_a",
        "model_b",
        "outcome",
        "first_shown_a",
        "first_shown_known",
        "tstamp",
        "style_a",
        "style_b",
    ):
        assert np.array_equal(
            getattr(got, name), getattr(expected, name), equal_nan=name in ("tstamp", "style_a", "style_b")
        ), name
    if not flt.per_order:
        counts = battle_counts(flt)
        assert counts.models == expected.models and counts.total == len(previous)
        assert np.array_equal(counts.counts, outcome_counts(expected))


def test_leaderboards_bias_and_agreement_are_unchanged(verdicts):
    def old(**kwargs):
        return previous_battles_list(**kwargs)

    for params in (
        LeaderboardParams(bootstrap=100),
        LeaderboardParams(source="import:crowd", bootstrap=50),
        LeaderboardParams(style_control=True, bootstrap=50),
        LeaderboardParams(method="elo", bootstrap=30),
        LeaderboardParams(method="elo", permutations=20, bootstrap=0, k=16.0),
    ):
        got = leaderboard_compute(params=params)
        board = compute_leaderboard(
            old(source=params.source),
            method=params.method,
            bootstrap_rounds=params.bootstrap,
            seed=params.seed,
            style_control=params.style_control,
            k=params.k,
            permutations=params.permutations,
            min_battles=settings.ARENA_LEADERBOARD_MIN_BATTLES,
            prior_sd=settings.ARENA_LEADERBOARD_PRIOR_SD
            if params.method == "bt" and not params.style_control
            else None,
        ).to_dict()
        assert got["rows"] == jsonable(board["rows"]), params
        assert got["win_rate"] == jsonable(board["win_rate"]) and got["style_coefficients"] == jsonable(
            board["style_coefficients"]
        )
    for source in ("all", "human", "judge:judge-tie", "import:crowd"):
        report = bias_compute(params=BiasParams(source=source))
        per_order, combined = old(source=source, per_order=True), old(source=source)
        flags = combined_order_sources(BiasParams(source=source))
        per_order_arrays = BattleArrays.from_battles(per_order, keep_self_battles=True)
        assert report["position"] == jsonable(position_table(per_order_arrays, flags))
        assert report["consistency"] == jsonable(consistency_table(per_order_arrays, flags))
        assert report["length"] == jsonable(length_table(length_bias(combined)))
        assert report["inter_rater"] == jsonable(inter_rater_agreement(combined).to_dict())
    report = agreement_compute(params=AgreementParams(a="import:crowd", b="judge:judge-tie"))
    assert (
        report["overall"]["confusion"]
        == agreement_of(old(source="import:crowd"), old(source="judge:judge-tie")).confusion
    )
    assert report["overall"]["pairs"] > 0


def test_no_computation_makes_a_python_object_per_battle(verdicts, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from arena.ratings import types

    made = []
    original = types.Battle.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(types.Battle, "__init__", counting)
    with CaptureQueriesContext(connection) as queries:
        leaderboard_compute(params=LeaderboardParams(source="import:crowd", bootstrap=10))
    assert any("GROUP BY" in q["sql"] for q in queries.captured_queries)  # counted by the database
    assert not any('"arena_importedverdict"."line"' in q["sql"] for q in queries.captured_queries)  # no rows
    leaderboard_compute(params=LeaderboardParams(method="elo", permutations=5, bootstrap=5))
    leaderboard_compute(params=LeaderboardParams(style_control=True, bootstrap=5))
    bias_compute(params=BiasParams(source="all"))
    agreement_compute(params=AgreementParams(a="human", b="judge:judge-drop"))
    assert made == []
    battles_list(source="human")  # the records are still there for the code that needs rows
    assert made
