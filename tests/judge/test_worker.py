"""An operator's judge run survives its worker being killed: resumed, every judgment stored once.

Real processes: a Celery worker (threads pool) on the test's own Redis database, the fake LLM server with latency,
the test database shared by name. Counted twice: in the database and by the server's per-key
request counts.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection

from arena.models import PromptSet
from judge.models import Judge, JudgeRun, Judgment
from judge.services import judge_run_create
from tests import factories
from tests.judge import workers
from tests.llm_server import FakeLLMServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def build_set(prompts: int, contenders: int) -> PromptSet:
    pset = factories.prompt_set("killed")
    for p in range(prompts):
        prompt = factories.prompt(pset, external_id=f"k{p}", turns=[f"Question {p}?"], position=p)
        for i in range(contenders):
            factories.answer(prompt, f"model-{i}", f"Answer {p} by model-{i}. quality:{i}")
    return pset


def test_a_run_killed_mid_flight_resumes_and_judges_every_comparison_order_exactly_once(tmp_path, redis_url):
    env = workers.worker_env(
        workers.database_url(connection.settings_dict),
        redis_url,
        JUDGE_CLAIM_SECONDS="300",
        JUDGE_SLOT_LEASE_SECONDS="3",
    )
    with FakeLLMServer(latency=0.25) as llm:
        judge = Judge.objects.create(
            name="killable",
            base_url=llm.base_url,
            model="fake-judge",
            max_concurrent=6,
            requests_per_minute=100_000,
            price_input_per_million=Decimal("1"),
        )
        pset = build_set(prompts=8, contenders=3)  # 3 pairs x 8 prompts x 2 orders = 48 judgments
        run = judge_run_create(judge=judge, prompt_set=pset, mode="pairwise", start=False)
        total = run.judgments.count()
        assert total == 48

        first = workers.start_worker(env, concurrency=12, name="first", log=tmp_path / "first.log")
        try:
            workers.manage(env, "judge_run", "--resume", str(run.pk), "--no-progress")
            done = lambda: Judgment.objects.filter(run=run).exclude(status="pending").count()  # noqa: E731
            assert workers.wait_for(lambda: done() >= 12, timeout=60), (tmp_path / "first.log").read_text()
            workers.kill(first)
        finally:
            workers.kill(first)
        done_at_kill = done()
        assert done_at_kill < total, "the run finished before the kill: make it longer"
        time.sleep(0.5)  # let the server count every request the dead worker had sent
        sent_before_kill = llm.stats()["total"]
        # Requests the dead worker sent whose answer it never stored: the only ones that may be repeated.
        in_flight_at_kill = sent_before_kill - done_at_kill

        second = workers.start_worker(env, concurrency=12, name="second", log=tmp_path / "second.log")
        try:
            # After a crash the operator (or the periodic stale-run check) enqueues what is pending.
            workers.manage(env, "judge_run", "--resume", str(run.pk), "--no-progress")
            finished = workers.wait_for(
                lambda: JudgeRun.objects.filter(pk=run.pk, status="done").exists(), timeout=90, interval=0.2
            )
            assert finished, (tmp_path / "second.log").read_text()
        finally:
            workers.stop(second)

        rows = list(Judgment.objects.filter(run=run))
        stats = llm.stats()
    # The database: one row per (comparison, order), every one judged.
    assert len({(j.comparison_id, j.order) for j in rows}) == len(rows) == total
    assert {j.status for j in rows} == {"done"}
    # The server: every request key asked; a key asked twice only for a request in flight at the kill.
    assert len(stats["by_key"]) == total
    repeated = sum(count - 1 for count in stats["by_key"].values())
    assert repeated == in_flight_at_kill  # each lost request sent once more, nothing else repeated
    assert max(stats["by_key"].values()) <= 2
    # Rows count a send when they start one; a kill between that count and the request leaves a
    # row counted twice that the server saw once.
    resent_rows = sum(1 for j in rows if j.sends > 1)
    assert repeated <= resent_rows and sum(j.sends for j in rows) >= stats["total"]
    print(
        f"\nkill/resume: {total} judgments, {done_at_kill} stored before SIGKILL, {in_flight_at_kill} requests in "
        f"flight at the kill, {repeated} sent again after resume, concurrency high-water {stats['in_flight_max']}"
    )
    assert stats["in_flight_max"] <= judge.max_concurrent  # the Redis limit held across both workers


def test_a_worker_keeps_a_judge_to_its_concurrency_limit_across_processes(tmp_path, redis_url):
    env = workers.worker_env(workers.database_url(connection.settings_dict), redis_url)
    with FakeLLMServer(latency=0.15) as llm:
        judge = Judge.objects.create(
            name="limited", base_url=llm.base_url, model="fake-judge", max_concurrent=3
        )
        pset = build_set(prompts=5, contenders=3)
        run = judge_run_create(judge=judge, prompt_set=pset, mode="pairwise", start=False)
        procs = [
            workers.start_worker(env, concurrency=8, name=f"w{i}", log=tmp_path / f"w{i}.log")
            for i in range(2)
        ]
        try:
            workers.manage(env, "judge_run", "--resume", str(run.pk), "--no-progress")
            assert workers.wait_for(
                lambda: JudgeRun.objects.filter(pk=run.pk, status="done").exists(), timeout=90, interval=0.2
            ), (tmp_path / "w0.log").read_text()
        finally:
            for p in procs:
                workers.stop(p)
        stats = llm.stats()
    assert stats["total"] == 30 and set(stats["by_key"].values()) == {1}
    assert stats["in_flight_max"] == 3
