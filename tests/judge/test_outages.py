"""A judge run through a PostgreSQL restart and a Redis outage keeps every paid reply (issue 16,
item 13): replies that arrive while the database is down are spooled and stored when it answers
again, requests wait for Redis instead of failing, nothing is asked twice, and the run finishes by
itself, without `judge_run --resume` or beat's stale sweep.

Real processes: two Celery judge workers (threads pool) on a RabbitMQ vhost of the test's own,
the test's own PostgreSQL cluster and redis-server (tests/outages.py), the tests' OpenAI-compatible
server with latency, which counts every request and every reply it sent.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.llm_server import FakeLLMServer
from tests.outages import BIN, ROOT, OwnPostgres, OwnRedis, app_env, manage, shell, wait_until

pytestmark = pytest.mark.integration
PROMPTS = 16
JUDGMENTS = PROMPTS * 3 * 2  # 3 pairs per prompt, both orders

SETUP = """
from arena.models import Answer, Contender, Prompt, PromptSet
pset = PromptSet.objects.create(slug="outage", name="Outage")
for number in range(PROMPTS):
    prompt = Prompt.objects.create(prompt_set=pset, external_id=f"o{number}", turns=[f"Question {number}?"], position=number)
    for name, quality in {"strong": 9, "middle": 5, "weak": 2}.items():
        contender, _ = Contender.objects.get_or_create(name=name)
        Answer.objects.create(prompt=prompt, contender=contender, turns=[f"{name} on {number}. quality:{quality}"])
""".replace("PROMPTS", str(PROMPTS))


def counts(db_url: str) -> dict[str, int]:
    try:
        with psycopg.connect(db_url, connect_timeout=2) as conn:
            rows = conn.execute("SELECT status, count(*) FROM judge_judgment GROUP BY status").fetchall()
            run = conn.execute("SELECT status FROM judge_judgerun").fetchone()
    except psycopg.OperationalError:
        return {}
    return {**dict(rows), "run": run[0] if run else ""}


def test_a_run_keeps_every_reply_through_a_postgres_restart_and_a_redis_outage_and_finishes_by_itself(
    tmp_path, broker_url
):
    postgres, redis = OwnPostgres(), OwnRedis()
    workers: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    try:
        postgres.start()
        postgres.create_database("arena")
        redis.start()
        db_url = postgres.url("arena")
        env = app_env(
            database_url=db_url,
            redis_url=redis.url,
            broker_url=broker_url,
            var_dir=tmp_path,
            DJANGO_DEBUG="1",
            DB_POOL_TIMEOUT="2",
            JUDGE_SLOT_LEASE_SECONDS="3",
            JUDGE_TASK_BATCH="8",
            JUDGE_PROGRESS_INTERVAL="0.5",
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        shell(env, SETUP)
        with FakeLLMServer(latency=0.4) as llm:
            manage(
                env,
                "judge_add",
                "outage-judge",
                "--model",
                "fake-judge",
                "--base-url",
                llm.base_url,
                "--max-concurrent",
                "8",
                "--rpm",
                "100000",
                "--price-input",
                "2.5",
                "--price-output",
                "10",
            )
            for number, log in enumerate(logs, 1):
                with open(log, "ab") as out:
                    workers.append(
                        subprocess.Popen(
                            [
                                str(BIN / "celery"),
                                "-A",
                                "arena",
                                "worker",
                                "-Q",
                                "judge,default",
                                "--pool",
                                "threads",
                                "--concurrency",
                                "4",
                                "--hostname",
                                f"outage{number}@%h",
                                "--without-gossip",
                                "--without-mingle",
                                "--without-heartbeat",
                                "--loglevel",
                                "WARNING",
                            ],
                            cwd=ROOT,
                            env=env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            manage(
                env,
                "judge_run",
                "--judge",
                "outage-judge",
                "--prompt-set",
                "outage",
                "--mode",
                "pairwise",
                "--no-progress",
            )

            def done() -> int:
                return counts(db_url).get("done", 0)

            def log_text() -> str:
                return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)

            # PostgreSQL goes down with requests in flight: their replies arrive while it is down.
            assert wait_until(lambda: done() >= 16, timeout=90), log_text()
            postgres.stop()
            in_flight_at_stop = llm.stats()["in_flight"]
            time.sleep(4)
            postgres.start()
            assert done() < JUDGMENTS, "the run finished before the outage: make it longer"

            # Redis goes down: requests wait for their slots, none is lost or doubled.
            assert wait_until(lambda: done() >= 56, timeout=90), log_text()
            redis.stop()
            time.sleep(4)
            redis.start()
            back = time.monotonic()
            assert done() < JUDGMENTS, "the run finished before the Redis outage: make it longer"

            finished = wait_until(lambda: counts(db_url).get("run") == "done", timeout=60, interval=0.2)
            seconds = time.monotonic() - back
            final = counts(db_url)
            stats = llm.stats()
        assert finished, (final, log_text())
        worker_logs = "".join(log.read_text(errors="replace") for log in logs)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        redis.stop()
        postgres.destroy()

    print(
        f"\n{JUDGMENTS} judgments: {in_flight_at_stop} requests in flight when PostgreSQL stopped, "
        f"{worker_logs.count('reply spooled')} replies spooled, run done {seconds:.1f} s after Redis came back"
    )
    # The outage really caught replies on their way in (else this test proves nothing).
    assert in_flight_at_stop > 0 and "reply spooled" in worker_logs
    # Every row judged, every reply the server sent stored exactly once, nothing asked twice.
    assert final["done"] == JUDGMENTS and final.get("pending", 0) == 0
    assert len(stats["by_key"]) == JUDGMENTS and max(stats["by_key"].values()) == 1, stats["by_key"]
    assert sum(stats["completed_by_key"].values()) == JUDGMENTS
    assert seconds < 60
    assert not list(Path(tmp_path, "judge-spool").glob("*.json")), "a spooled reply was never stored"
