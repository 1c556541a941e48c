"""evaluate: one command from a new model to its result, against the test LLM server as both
contender and judge, through the real openai client."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from arena.models import Answer, Contender
from judge.models import JudgeRun, Judgment

pytestmark = pytest.mark.django_db

MODELS = ["fake-judge", "fake-contender", "new-quality-7", "base-quality-4"]


@pytest.fixture
def custom_set(tmp_path, llm):
    """A 20-prompt custom set (every fourth prompt has two turns), imported like a user would."""
    llm.configure(models=MODELS)
    rows = [
        {
            "prompt_id": f"q{i}",
            "category": "writing" if i % 2 else "math",
            "turns": [f"Question {i}?"] + ([f"Follow-up {i}?"] if i % 4 == 0 else []),
        }
        for i in range(20)
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    call_command("import_prompt_set", str(path), "--slug", "mine", "--format", "jsonl", stdout=io.StringIO())
    return "mine"


def evaluate(*args, llm=None, model=None):
    out = io.StringIO()
    extra = ["--base-url", llm.base_url, "--model", model] if model else []
    call_command("evaluate", *map(str, args), *extra, "--no-progress", stdout=out)
    return out.getvalue()


def repeated_ok(llm) -> list[str]:
    """Requests (messages and model) the server answered (200) more than once."""
    log = llm.stats(log=True)["log"]
    counts = Counter((entry["key"], entry["model"]) for entry in log if entry["status"] == "200")
    return [key for key, n in counts.items() if n > 1]


TURNS = 20 + 5  # 5 of the 20 prompts have a second turn


def test_single_then_baseline_prints_the_tables(custom_set, judge, llm):
    out = evaluate(
        "--contender",
        "new",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        llm=llm,
        model="new-quality-7",
    )
    assert "Answers: 20 generated" in out
    assert f"Judgments: {TURNS} judged" in out
    assert "scores report" in out and "new" in out
    assert llm.stats()["total"] == TURNS + TURNS  # one request per answer turn, one per judged turn
    assert Answer.objects.filter(contender__name="new").count() == 20

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
    before = llm.stats()["total"]
    out = evaluate(
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
    assert "Generate: 0 answers" in out
    assert llm.stats()["total"] - before == 2 * TURNS  # both orders, no answer asked again
    assert "winrate report" in out
    line = next(x for x in out.splitlines() if x.startswith("new "))
    assert "base" in out and line  # the new model's row, with its interval columns
    run = JudgeRun.objects.get(mode="pairwise")
    assert set(run.judgments.values_list("order", flat=True)) == {1, 2}
    assert not repeated_ok(llm)


def test_against_prints_the_leaderboard_with_the_new_model(custom_set, judge, llm):
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
        "other",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        llm=llm,
        model="fake-contender",
    )
    out = evaluate(
        "--contender",
        "new",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        "--mode",
        "pairwise",
        "--against",
        "base,other",
        llm=llm,
        model="new-quality-7",
    )
    table = out[out.index("rank") :]
    assert table.index(" new ") < table.index(" base ")  # quality 7 beats quality 4
    assert JudgeRun.objects.filter(mode="pairwise").count() == 2


def test_interrupted_and_run_again_sends_only_what_is_missing(custom_set, judge, llm, monkeypatch):
    from judge.services import evaluate as service

    real_run = service.evaluation_run

    def interrupt_after(n_answers=None, n_judgments=None):
        def run(options, **kwargs):
            def gen(k, seen=[0]):  # noqa: B006 - a counter for this call
                seen[0] += k
                if n_answers is not None and seen[0] >= n_answers:
                    raise KeyboardInterrupt

            def judged(done, total, cost):
                if n_judgments is not None and done >= n_judgments:
                    raise KeyboardInterrupt

            return real_run(options, plan=kwargs.get("plan"), on_generation=gen, on_judgment=judged)

        return run

    monkeypatch.setattr("judge.management.commands.evaluate.evaluation_run", interrupt_after(n_answers=8))
    with pytest.raises(KeyboardInterrupt):
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
    assert Answer.objects.filter(contender__name="new").count() == 8
    monkeypatch.setattr("judge.management.commands.evaluate.evaluation_run", interrupt_after(n_judgments=9))
    with pytest.raises(KeyboardInterrupt):
        evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name)
    assert Judgment.objects.filter(status="done").count() == 9
    monkeypatch.setattr("judge.management.commands.evaluate.evaluation_run", real_run)
    out = evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name)
    assert f"Judgments: {TURNS - 9} judged" in out and "scores report" in out
    assert JudgeRun.objects.count() == 1 and JudgeRun.objects.get().status == "done"
    assert Judgment.objects.filter(status="done").count() == TURNS
    assert not repeated_ok(llm)  # nothing stored was asked for again
    assert llm.stats()["total"] == 2 * TURNS


def test_dry_run_sends_nothing_and_writes_nothing(custom_set, judge, llm):
    out = evaluate(
        "--contender",
        "new",
        "--prompt-set",
        custom_set,
        "--judge",
        judge.name,
        "--dry-run",
        llm=llm,
        model="new-quality-7",
    )
    assert "Generate: 20 answers (25 requests" in out and f"Judge: {TURNS} judgments" in out
    assert "estimated cost $" in out and "Dry run: nothing was sent." in out
    assert llm.stats()["total"] == 0 and llm.stats(log=True)["log"] == []
    assert not Contender.objects.filter(name="new").exists() and not JudgeRun.objects.exists()


def test_max_cost_refuses_above_the_estimate(custom_set, judge, llm):
    with pytest.raises(CommandError, match=r"above --max-cost \$0.0001: nothing was sent"):
        evaluate(
            "--contender",
            "new",
            "--prompt-set",
            custom_set,
            "--judge",
            judge.name,
            "--max-cost",
            "0.0001",
            llm=llm,
            model="new-quality-7",
        )
    assert llm.stats()["total"] == 0


def test_max_cost_stops_cleanly_and_a_rerun_goes_on(custom_set, judge, llm, settings):
    from judge.services.evaluate import EvaluationOptions, evaluation_plan

    # The answers exist; the estimate counts one output token per verdict while the judge's
    # output is priced high, so the run starts under the limit and its real cost passes it.
    new = Contender.objects.create(name="new", base_url=llm.base_url, api_model="new-quality-7")
    from arena.models import PromptSet
    from judge.services.generation import answers_generate

    answers_generate(contender=new, prompt_set=PromptSet.objects.get(slug=custom_set))
    settings.JUDGE_ESTIMATE_OUTPUT_TOKENS = 1
    judge.price_output_per_million = 100_000
    judge.save()
    estimate = evaluation_plan(
        EvaluationOptions(contender="new", prompt_set=custom_set, judge=judge.name)
    ).judge_cost
    with pytest.raises(CommandError, match="Stopped: the judge's cost"):
        evaluate(
            "--contender",
            "new",
            "--prompt-set",
            custom_set,
            "--judge",
            judge.name,
            "--max-cost",
            f"{estimate * 2}",
        )
    run = JudgeRun.objects.get()
    assert run.status == "cancelled"
    done = Judgment.objects.filter(status="done").count()
    assert 0 < done < TURNS
    out = evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name)
    assert f"Judgments: {TURNS - done} judged" in out and "scores report" in out
    assert JudgeRun.objects.get().status == "done"
    assert not repeated_ok(llm)


def test_clear_errors_for_unknown_set_judge_model_and_refused_key(custom_set, judge, llm):
    with pytest.raises(CommandError, match="No prompt set 'nope'; known sets: mine"):
        evaluate("--contender", "new", "--prompt-set", "nope", "--judge", judge.name)
    with pytest.raises(CommandError, match="No judge 'nope'"):
        evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", "nope")
    with pytest.raises(CommandError, match="give --base-url and --model"):
        evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name)
    with pytest.raises(CommandError, match="does not serve model 'no-such-model'"):
        evaluate(
            "--contender",
            "new",
            "--prompt-set",
            custom_set,
            "--judge",
            judge.name,
            llm=llm,
            model="no-such-model",
        )
    with pytest.raises(CommandError, match="--api-key-env"):  # a variable that may not hold a key
        call_command(
            "evaluate",
            "--contender",
            "new",
            "--prompt-set",
            custom_set,
            "--judge",
            judge.name,
            "--base-url",
            llm.base_url,
            "--model",
            "new-quality-7",
            "--api-key-env",
            "HOME",
            stdout=io.StringIO(),
        )
    assert llm.stats()["total"] == 0
    llm.configure(script=["401"] * 30)
    with pytest.raises(CommandError, match="refused the key"):
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
    with pytest.raises(CommandError, match="use --mode pairwise"):
        evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name, "--baseline", "x")


def test_endpoint_options_update_an_existing_contender(custom_set, judge, llm):
    Contender.objects.create(name="new", base_url="http://127.0.0.1:9/v1", api_model="new-quality-7")
    out = evaluate(
        "--contender", "new", "--prompt-set", custom_set, "--judge", judge.name, "--base-url", llm.base_url
    )
    assert "Answers: 20 generated" in out
    assert Contender.objects.get(name="new").base_url == llm.base_url


def test_a_run_made_before_a_new_version_is_resumed_and_says_so(custom_set, judge, llm, tmp_path):
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
    path = tmp_path / "v2.jsonl"
    path.write_text(
        json.dumps({"prompt_id": "q0", "category": "math", "turns": ["Changed question?"]}) + "\n"
    )
    call_command(
        "import_prompt_set", str(path), "--slug", custom_set, "--format", "jsonl", stdout=io.StringIO()
    )
    out = evaluate("--contender", "new", "--prompt-set", custom_set, "--judge", judge.name)
    assert "Answers: 1 generated" in out  # the changed prompt's answer: the only request for answers
    assert "was made before version 2 of mine" in out and JudgeRun.objects.count() == 1
