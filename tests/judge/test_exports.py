"""Exports that carry everything: export_battles --format full (texts, grades, HHH, comments,
turn, order) and FastChat's llm_judge layout, read back by the FastChat importers."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from arena.models import Comparison, ImportedScore, ImportedVerdict, Vote
from judge.models import Judgment
from tests.judge.test_evaluate import custom_set, evaluate  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(custom_set, judge, llm):  # noqa: F811
    evaluate(
        "--contender",
        "base",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        llm=llm,
        model="base-quality-4",
    )
    evaluate(
        "--contender",
        "new",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        llm=llm,
        model="new-quality-7",
    )
    evaluate(
        "--contender",
        "new",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        "--mode",
        "pairwise",
        "--baseline",
        "base",
    )
    return custom_set


def test_full_export_carries_texts_grades_hhh_comments_turn_and_order(evaluated, judge, tmp_path):
    comparison = Comparison.objects.filter(turn=2).first()
    rater = get_user_model().objects.create_user("rita")
    Vote.objects.create(
        rater=rater,
        comparison=comparison,
        winner="model_b",
        a_shown_first=False,
        grade_a="C",
        grade_b="A",
        helpful="model_b",
        honest="same",
        harmless="same",
        comment="B is clearer",
    )
    out = tmp_path / "all.jsonl"
    call_command("export_battles", "--format", "full", "--prompt-set", evaluated, "-o", str(out))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    human = [r for r in records if r["source"] == "human"]
    assert len(human) == 1
    vote = human[0]
    assert (
        vote["winner"],
        vote["order"],
        vote["turn"],
        vote["grade_a"],
        vote["grade_b"],
        vote["helpful"],
        vote["comment"],
    ) == ("model_b", 2, 2, "C", "A", "model_b", "B is clearer")
    assert len(vote["question"]) == 2 and len(vote["answer_a"]) == 2 and "quality:" in vote["answer_b"][1]
    judged = [r for r in records if r["source"] == f"judge:{judge.name}"]
    assert len(judged) == Judgment.objects.filter(status="done", comparison__isnull=False).count() == 50
    assert {r["order"] for r in judged} == {1, 2} and all(r["judgment"] for r in judged)
    with pytest.raises(CommandError, match="Unknown source"):
        call_command("export_battles", "--format", "full", "--source", "nope", stdout=io.StringIO())


def test_llm_judge_layout_is_read_back_by_the_fastchat_importers(evaluated, judge, tmp_path):
    folder = tmp_path / "mine"
    out = io.StringIO()
    call_command("export_llm_judge", str(folder), "--prompt-set", evaluated, stdout=out)
    assert sorted(p.name for p in (folder / "model_answer").iterdir()) == ["base.jsonl", "new.jsonl"]
    pair = folder / "model_judgment" / f"{judge.name}_pair.jsonl"
    single = folder / "model_judgment" / f"{judge.name}_single.jsonl"
    assert len(pair.read_text().splitlines()) == 25 and len(single.read_text().splitlines()) == 50

    call_command(
        "import_prompt_set",
        str(folder / "question.jsonl"),
        "--slug",
        "again",
        "--format",
        "fastchat",
        stdout=io.StringIO(),
    )
    for model in ("base", "new"):
        call_command(
            "import_answers",
            str(folder / "model_answer" / f"{model}.jsonl"),
            "--format",
            "fastchat",
            "--prompt-set",
            "again",
            "--contender",
            model,
            stdout=io.StringIO(),
        )
    call_command(
        "import_battles",
        str(pair),
        "--format",
        "mtbench_pair",
        "--source",
        "roundtrip",
        "--prompt-set",
        "again",
        "--llm",
        stdout=io.StringIO(),
    )
    call_command(
        "import_scores",
        str(single),
        "--source",
        "roundtrip-single",
        "--prompt-set",
        "again",
        stdout=io.StringIO(),
    )
    # The same verdicts and scores, now read through FastChat's formats.
    wins = ImportedVerdict.objects.filter(source__name="roundtrip")
    assert wins.count() == 50
    assert (
        wins.filter(winner="model_a", model_a__name="new").count()
        + wins.filter(winner="model_b", model_b__name="new").count()
        == 50
    )  # quality 7 always beats 4
    scores = sorted(
        ImportedScore.objects.filter(source__name="roundtrip-single").values_list(
            "model__name", "prompt__external_id", "turn", "score"
        )
    )
    judged = sorted(
        Judgment.objects.filter(answer__isnull=False).values_list(
            "answer__contender__name", "answer__prompt__external_id", "turn", "score"
        )
    )
    assert scores == judged and len(scores) == 50
