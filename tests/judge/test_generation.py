"""Generating a contender's answers through its own endpoint, and the judge commands an operator types."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from arena.models import Answer, Contender, Prompt, PromptSet
from judge.models import Judge, JudgeRun
from judge.prompts import load_template_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_turn_set(db):
    pset = PromptSet.objects.create(slug="two-turn", name="two turns")
    for i in range(3):
        Prompt.objects.create(
            prompt_set=pset,
            external_id=f"t{i}",
            position=i,
            turns=[f"Question {i}, first turn?", f"Question {i}, follow-up?"],
        )
    return pset


def test_generate_answers_holds_one_conversation_and_resumes(two_turn_set, llm):
    contender = Contender.objects.create(
        name="gen-model",
        base_url=llm.base_url,
        api_model="fake-contender-quality-7",
        api_key_env="ARENA_KEY_GEN_MODEL",
    )
    out = StringIO()
    call_command(
        "generate_answers",
        contender="gen-model",
        prompt_set="two-turn",
        limit=2,
        no_progress=True,
        stdout=out,
    )
    answers = list(Answer.objects.filter(contender=contender).order_by("prompt__position"))
    assert len(answers) == 2 and "2 generated" in out.getvalue()
    first = answers[0]
    assert len(first.turns) == 2 and "quality:7" in first.turns[0] and "follow-up" in first.turns[1]
    assert first.origin == "generated"
    assert first.token_counts == first.metadata["output_tokens"] and all(n > 0 for n in first.token_counts)
    assert first.metadata["input_tokens"][1] > first.metadata["input_tokens"][0]  # turn 2 carried turn 1
    log = llm.stats(log=True)
    assert log["total"] == 4

    llm.reset()
    out = StringIO()
    call_command(
        "generate_answers", contender="gen-model", prompt_set="two-turn", no_progress=True, stdout=out
    )
    assert "1 generated, 2 already present" in out.getvalue()
    assert llm.stats()["total"] == 2  # only the missing prompt, both turns


def test_generation_retries_transient_errors_and_reports_failures(two_turn_set, llm, settings):
    Contender.objects.create(name="gen-model", base_url=llm.base_url, api_model="fake-contender")
    llm.configure(script=["429", "500"])
    call_command(
        "generate_answers",
        contender="gen-model",
        prompt_set="two-turn",
        limit=1,
        no_progress=True,
        concurrency=1,
        stdout=StringIO(),
    )
    assert Answer.objects.count() == 1
    llm.configure(script=["401"])
    with pytest.raises(CommandError, match="1 prompts failed"):
        call_command(
            "generate_answers",
            contender="gen-model",
            prompt_set="two-turn",
            limit=2,
            no_progress=True,
            concurrency=1,
            stdout=StringIO(),
            stderr=StringIO(),
        )


def test_judge_add_stores_the_name_of_the_key_variable_never_the_key(db):
    call_command(
        "judge_add",
        "gpt4o",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "gpt-4o",
        "--api-key-env",
        "ARENA_KEY_MY_JUDGE",
        "--max-concurrent",
        "16",
        "--rpm",
        "500",
        "--price-input",
        "2.5",
        "--price-output",
        "10",
        stdout=StringIO(),
    )
    judge = Judge.objects.get(name="gpt4o")
    assert (judge.api_key_env, judge.max_concurrent, judge.requests_per_minute) == (
        "ARENA_KEY_MY_JUDGE",
        16,
        500,
    )
    assert str(judge.price_output_per_million) == "10.0000"
    with pytest.raises(CommandError, match="looks like an API key itself"):
        call_command("judge_add", "oops", "--model", "m", "--api-key-env", "sk-abcdef", stdout=StringIO())
    with pytest.raises(CommandError, match="no template set"):
        call_command("judge_add", "oops", "--model", "m", "--template-set", "nope", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_judge_run_waits_with_a_progress_bar_then_resume_and_retry(judge, battle_set, llm, settings):
    llm.configure(script=["malformed"])
    out = StringIO()
    call_command(
        "judge_run",
        "--judge",
        judge.name,
        "--prompt-set",
        battle_set.slug,
        "--mode",
        "pairwise",
        "--contenders",
        "strong,weak",
        "--wait",
        "--no-progress",
        stdout=out,
    )
    run = JudgeRun.objects.get()
    assert run.status == "done" and "1 unparsed" in out.getvalue() and "3 done" in out.getvalue()
    out = StringIO()
    call_command("judge_run", "--retry-unparsed", str(run.pk), "--no-progress", stdout=out)
    assert "4 done, 0 unparsed" in out.getvalue()
    call_command("judge_cancel", str(run.pk), stdout=StringIO())
    out = StringIO()
    call_command("judge_run", "--resume", str(run.pk), "--no-progress", stdout=out)
    assert "0 pending judgments enqueued" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown contenders"):
        call_command(
            "judge_run", "--judge", judge.name, "--prompt-set", battle_set.slug, "--contenders", "nobody"
        )


def test_import_judge_prompts_makes_the_mt_bench_set_usable(tmp_path, data_dir):
    out = StringIO()
    call_command(
        "import_judge_prompts",
        str(data_dir / "prompt_sets" / "mt_bench" / "judge_prompts.jsonl"),
        "--dir",
        str(tmp_path / "mt-bench"),
        stdout=out,
    )
    imported = load_template_set(tmp_path / "mt-bench")
    assert "pairwise-reference-multi-turn" in imported.modes and "8 modes" in out.getvalue()
    assert imported.fingerprint == load_template_set("mt-bench").fingerprint


def test_a_judge_on_the_mt_bench_templates_judges_with_them(judge, battle_set, start_run, llm):
    judge.template_set = "mt-bench"
    judge.save()
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)
    assert set(run.judgments.values_list("status", flat=True)) == {"done"}
