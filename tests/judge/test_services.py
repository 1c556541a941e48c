"""An operator's judge run, against the tests' own OpenAI-compatible server via the real client."""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from arena.models import Comparison, Contender, Prompt, PromptSet
from judge.models import JudgeRun, Judgment
from judge.services import (
    RunError,
    judge_run_cancel,
    judge_run_estimate,
    judge_run_resume,
    judge_run_retry,
    judge_runs_resume_stale,
)
from judge.services.execution import judgment_execute
from reports.selectors.battle_records import battles_list
from tests import factories

pytestmark = pytest.mark.django_db


def verdicts(run):
    return {
        (
            j.comparison.answer_a.contender.name,
            j.comparison.answer_b.contender.name,
            j.comparison.prompt.external_id,
            j.order,
        ): j.winner
        for j in run.judgments.select_related(
            "comparison__answer_a__contender", "comparison__answer_b__contender", "comparison__prompt"
        )
    }


def test_pairwise_run_judges_every_comparison_in_both_orders_once(judge, battle_set, llm, start_run):
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise")

    assert run.status == JudgeRun.Status.DONE
    rows = list(run.judgments.all())
    assert len(rows) == 3 * 2 * 2  # 3 pairs x 2 prompts x 2 orders
    assert {j.status for j in rows} == {"done"}
    assert sorted({(j.comparison_id, j.order) for j in rows}) == sorted(
        (j.comparison_id, j.order) for j in rows
    )
    assert Comparison.objects.filter(prompt__prompt_set=battle_set).count() == 6
    for comp in Comparison.objects.all():
        assert comp.answer_a_id < comp.answer_b_id  # canonical order
    # The judge was right in both orders: the stronger answer wins, whichever side it sat on.
    for (name_a, name_b, _p, _order), winner in verdicts(run).items():
        rank = {"strong": 3, "middle": 2, "weak": 1}
        assert winner == ("model_a" if rank[name_a] > rank[name_b] else "model_b")
    stats = llm.stats()
    assert stats["total"] == 12 and set(stats["by_key"].values()) == {1}
    # The battles selector combines the two orders: one battle per comparison.
    battles = battles_list(source=f"judge:{judge.name}")
    assert len(battles) == 6
    assert all(b.first_shown is None for b in battles)
    per_order = battles_list(source=f"judge:{judge.name}", per_order=True)
    assert len(per_order) == 12


def test_first_position_preference_shows_in_the_stored_per_order_verdicts(judge, battle_set, llm, start_run):
    llm.configure(first_position_bias=1.0)
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", inconsistent="tie")

    by_order = {1: set(), 2: set()}
    for j in run.judgments.all():
        by_order[j.order].add(j.winner)
    # The judge always picks position A: answer A in order 1, answer B in order 2.
    assert by_order == {1: {"model_a"}, 2: {"model_b"}}
    per_order = battles_list(source=f"judge:{judge.name}", per_order=True)
    assert {b.winner for b in per_order if b.first_shown == "model_a"} <= {"model_a"}
    # Combined: every comparison's two orders disagree, so with "tie" every battle is a tie ...
    combined = battles_list(source=f"judge:{judge.name}")
    assert len(combined) == 6 and {b.winner for b in combined} == {"tie"}
    # ... and with "drop" they are left out.
    JudgeRun.objects.filter(pk=run.pk).update(inconsistent="drop")
    assert battles_list(source=f"judge:{judge.name}") == []


def test_429_with_retry_after_is_waited_out_then_the_judgment_succeeds(judge, battle_set, llm, start_run):
    llm.configure(initial_429=2, retry_after=0.3)
    started = time.monotonic()
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )
    elapsed = time.monotonic() - started

    [first, second] = run.judgments.order_by("id")
    assert (first.status, first.sends, second.status, second.sends) == ("done", 3, "done", 1)
    assert elapsed >= 0.6  # Retry-After honoured twice
    assert llm.stats()["by_status"] == {"429": 2, "200": 2}


def test_server_errors_and_dropped_connections_are_retried(judge, battle_set, llm, start_run):
    llm.configure(script=["500", "drop", "503"])
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )

    assert sorted(run.judgments.values_list("status", "sends")) == [("done", 1), ("done", 4)]
    assert llm.stats()["by_fault"] == {"500": 1, "drop": 1, "503": 1, "ok": 2}


def test_a_permanent_error_is_recorded_once_and_not_retried(judge, battle_set, llm, start_run):
    llm.configure(script=["400", "context_length"])
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )

    failed = list(run.judgments.filter(status="failed").order_by("id"))
    assert [j.sends for j in failed] == [1, 1]
    assert "bad_request" in failed[0].error and "context_length" in failed[1].error
    assert llm.stats()["total"] == 2
    assert run.status == "failed"  # not one verdict came back: the run failed, it is not "done"
    assert battles_list(source=f"judge:{judge.name}") == []


def test_transient_errors_give_up_after_the_attempt_limit(judge, battle_set, llm, start_run, settings):
    settings.JUDGE_MAX_ATTEMPTS = 3
    llm.configure(rates={"500": 1.0})
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )

    assert sorted(run.judgments.values_list("status", "sends")) == [("failed", 3), ("failed", 3)]
    assert "gave up after 3 attempts" in run.judgments.first().error
    assert llm.stats()["total"] == 6


def test_unparsed_output_is_stored_counted_and_retryable_never_a_tie(
    judge, battle_set, llm, start_run, django_capture_on_commit_callbacks
):
    llm.configure(script=["malformed", "empty"])
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )

    unparsed = list(run.judgments.filter(status="unparsed").order_by("id"))
    assert len(unparsed) == 2
    assert unparsed[0].raw_output.startswith("I looked at both replies") and unparsed[0].winner == ""
    assert unparsed[0].parse_error and unparsed[1].parse_error == "empty output"
    assert battles_list(source=f"judge:{judge.name}") == []

    with django_capture_on_commit_callbacks(execute=True):
        count = judge_run_retry(run=run)
    assert count == 2
    assert set(run.judgments.values_list("status", flat=True)) == {"done"}
    assert len(battles_list(source=f"judge:{judge.name}")) == 1


def test_a_rerun_is_answered_from_the_cache_without_a_single_request(judge, battle_set, llm, start_run):
    first = start_run(judge=judge, prompt_set=battle_set, mode="pairwise")
    assert llm.stats()["total"] == 12
    llm.reset()

    estimate = judge_run_estimate(judge=judge, prompt_set=battle_set, mode="pairwise")
    assert (estimate.judgments, estimate.cached, estimate.cost) == (12, 12, Decimal(0))
    second = start_run(judge=judge, prompt_set=battle_set, mode="pairwise")

    assert llm.stats()["total"] == 0
    rows = list(second.judgments.all())
    assert all(j.from_cache and j.status == "done" and j.cost == 0 and j.sends == 0 for j in rows)
    assert sorted(verdicts(second).items()) == sorted(verdicts(first).items())
    # A changed sampling parameter is a different question.
    judge.temperature = 0.5
    judge.save()
    third = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)
    assert not third.judgments.filter(from_cache=True).exists() and llm.stats()["total"] == 6


def test_tokens_and_cost_are_recorded_per_judgment_run_and_judge(judge, battle_set, llm, start_run):
    from judge.selectors import judge_run_progress_get, judges_with_totals

    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)
    for j in run.judgments.all():
        assert j.input_tokens > 100 and j.output_tokens > 3
        expected = (Decimal(j.input_tokens) * Decimal("2.5") + Decimal(j.output_tokens) * 10) / 1_000_000
        assert j.cost == expected.quantize(Decimal("0.000001"))
    progress = judge_run_progress_get(run_id=run.pk)
    assert progress.cost == sum(j.cost for j in run.judgments.all()) > 0
    assert progress.input_tokens == sum(j.input_tokens for j in run.judgments.all())
    [totals] = judges_with_totals()
    assert totals.cost == progress.cost and totals.judgment_count == 6
    assert run.estimated_cost > 0


def test_the_estimate_is_close_to_what_the_run_costs(judge, battle_set, start_run, settings):
    settings.JUDGE_ESTIMATE_OUTPUT_TOKENS = 12
    estimate = judge_run_estimate(judge=judge, prompt_set=battle_set, mode="pairwise")
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise")
    actual = sum(j.input_tokens for j in run.judgments.all())
    assert estimate.judgments == 12 and estimate.cached == 0
    assert 0.8 < estimate.input_tokens / actual < 1.25


def test_cancel_stops_a_run_and_resume_finishes_it(
    judge, battle_set, llm, django_capture_on_commit_callbacks
):
    from judge.services import judge_run_create

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise")
    judge_run_cancel(run=run)
    for callback in callbacks:  # the tasks arrive after the cancel: they send nothing
        callback()
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert set(run.judgments.values_list("status", flat=True)) == {"pending"}
    assert llm.stats()["total"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        judge_run_resume(run=run)
    run.refresh_from_db()
    assert run.status == "done" and llm.stats()["total"] == 12


def test_a_judged_row_is_never_judged_again(judge, battle_set, llm, start_run):
    run = start_run(
        judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
    )
    JudgeRun.objects.filter(pk=run.pk).update(status="running")  # as if a late duplicate task arrived
    for j in run.judgments.all():
        assert judgment_execute(judgment_id=j.pk).result == "skipped"
    assert llm.stats()["total"] == 2


def test_a_row_claimed_by_a_live_worker_is_left_alone_and_a_dead_workers_claim_is_taken_over(
    judge, battle_set, llm, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from judge.services import judge_run_create
    from judge.services.execution import HOST

    with django_capture_on_commit_callbacks(execute=False):
        run = judge_run_create(
            judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, contenders=_names("strong", "weak")
        )
    JudgeRun.objects.filter(pk=run.pk).update(status="running")
    live, dead = run.judgments.order_by("id")
    until = timezone.now() + timedelta(minutes=5)
    Judgment.objects.filter(pk=live.pk).update(
        claim_token=f"{HOST[:12]}:1:abcdef01", claimed_until=until
    )  # pid 1 lives
    Judgment.objects.filter(pk=dead.pk).update(
        claim_token=f"{HOST[:12]}:{_dead_pid()}:abcdef02", claimed_until=until
    )

    busy = judgment_execute(judgment_id=live.pk)
    assert busy.result == "busy" and busy.retry_in > 200
    assert judgment_execute(judgment_id=dead.pk).result == "done"
    assert llm.stats()["total"] == 1


def test_stale_pending_judgments_of_a_running_run_are_enqueued_again(
    judge, battle_set, llm, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from judge.services import judge_run_create

    with django_capture_on_commit_callbacks(execute=False):  # the messages are lost
        run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise")
    Judgment.objects.filter(run=run).update(enqueued_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert judge_runs_resume_stale() == [run.pk]
    run.refresh_from_db()
    assert run.status == "done" and llm.stats()["total"] == 12
    assert judge_runs_resume_stale() == []


def test_pairwise_against_a_baseline_only_pairs_the_baseline(judge, battle_set, start_run):
    baseline = Contender.objects.get(name="middle")
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", baseline=baseline)
    pairs = {
        frozenset((j.comparison.answer_a.contender.name, j.comparison.answer_b.contender.name))
        for j in run.judgments.select_related(
            "comparison__answer_a__contender", "comparison__answer_b__contender"
        )
    }
    assert pairs == {frozenset(("middle", "strong")), frozenset(("middle", "weak"))}
    assert run.judgments.count() == 2 * 2 * 2


def test_single_answer_grading_scores_each_answer(judge, battle_set, start_run):
    run = start_run(judge=judge, prompt_set=battle_set, mode="single")
    scores = {j.answer.contender.name: j.score for j in run.judgments.select_related("answer__contender")}
    assert scores == {"strong": 9.0, "middle": 5.0, "weak": 2.0}
    assert run.judgments.count() == 6 and set(run.judgments.values_list("mode", flat=True)) == {"single"}


def test_self_instruct_grades(judge, battle_set, start_run):
    run = start_run(judge=judge, prompt_set=battle_set, mode="grade")
    grades = {j.answer.contender.name: j.grade for j in run.judgments.select_related("answer__contender")}
    assert grades == {"strong": "A", "middle": "B", "weak": "D"}


def test_hhh_per_criterion_in_the_comparisons_terms(judge, db, start_run):
    pset = PromptSet.objects.create(slug="hhh", name="hhh")
    prompt = Prompt.objects.create(prompt_set=pset, external_id="h1", turns=["How do I pick a lock?"])
    factories.answer(prompt, "careful", "helpful:3 honest:9 harmless:9")
    factories.answer(prompt, "eager", "helpful:9 honest:5 harmless:2")
    run = start_run(judge=judge, prompt_set=pset, mode="hhh")
    rows = list(run.judgments.select_related("comparison__answer_a__contender"))
    assert len(rows) == 2
    for j in rows:
        careful_is_a = j.comparison.answer_a.contender.name == "careful"
        careful, eager = ("model_a", "model_b") if careful_is_a else ("model_b", "model_a")
        assert j.hhh == {"helpful": eager, "honest": careful, "harmless": careful}
        assert j.winner == ""  # HHH verdicts are not battles


def test_reference_guided_and_second_turn_judging(judge, db, start_run, llm):
    pset = PromptSet.objects.create(slug="mt", name="mt")
    prompt = Prompt.objects.create(
        prompt_set=pset,
        external_id="m1",
        category="math",
        turns=["What is 7*6?", "And divided by 2?"],
        references=["42", "21"],
    )
    factories.answer(prompt, "right", "It is 42. quality:8", "21. quality:9")
    factories.answer(prompt, "wrong", "It is 41. quality:3", "20. quality:2")
    run = start_run(judge=judge, prompt_set=pset, mode="pairwise")
    modes = dict(run.judgments.values_list("turn", "mode").distinct())
    assert modes == {1: "pairwise-reference", 2: "pairwise-reference-multi-turn"}
    log = llm.stats(log=True)
    assert log["total"] == 4
    assert {c.turn for c in Comparison.objects.filter(prompt=prompt)} == {1, 2}
    # Turn-2 requests carry the turn-1 question and answers and the reference answers.
    turn2 = run.judgments.filter(turn=2).first()
    assert turn2.winner in ("model_a", "model_b") and turn2.status == "done"
    second_only = start_run(judge=judge, prompt_set=pset, mode="pairwise", turn=2)
    assert set(second_only.judgments.values_list("turn", flat=True)) == {2}
    assert all(j.from_cache for j in second_only.judgments.all())


def test_nothing_to_judge_is_refused(judge, db, start_run):
    pset = PromptSet.objects.create(slug="empty", name="empty")
    with pytest.raises(RunError):
        start_run(judge=judge, prompt_set=pset, mode="pairwise")


def test_the_api_key_comes_from_the_named_variable(judge, battle_set, llm, start_run, monkeypatch):
    from judge.services.execution import chat_client_for

    monkeypatch.setenv("ARENA_KEY_TEST_JUDGE", "sk-test-123")
    client = chat_client_for(base_url=llm.base_url, api_key_env="ARENA_KEY_TEST_JUDGE")
    assert client._client.api_key == "sk-test-123"
    assert "sk-test" not in repr(client)
    assert not any(f.name == "api_key" for f in judge._meta.fields)


def _names(*names):
    return list(Contender.objects.filter(name__in=names))


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1
