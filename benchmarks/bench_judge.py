"""Judge throughput with a real Celery worker, and a kill-and-resume repeat count.

A batch of pairwise judgments runs against the tests' OpenAI-compatible server with 200 ms
latency, judge concurrency 32, through real workers on a free database of the tests' Redis, laid out as deployed (the
Procfile): one worker process per core (2), each a threads pool of 4 batches of 32 rows. The
ceiling is 32 / 0.2 s = 160 judgments per second; the goal is 90 % of it. Then a second batch is
killed (SIGKILL) mid-run, a new worker resumes it, and the requests the server saw twice are
counted. Every repeat should be a request in flight at the kill (its result never stored), so
repeats = in flight at the kill, and no row is stored twice. The server tells apart the in-flight
requests whose connection the dead worker left before their reply was due from those whose reply
it had already sent (received, or in the socket, but not yet stored when the worker died).

Printed: judgments/s from the rows' enqueue stamp to the last stored (the headline), from the
operator's `manage.py judge_run --resume` start (adds that process's start-up) and first to last
stored; the server's mean requests in flight; CPU per judgment of the worker (user/system), of the
fake server's threads in this process, of PostgreSQL (the whole cluster) and of Redis. The judge
tables are VACUUM ANALYZEd first (this PostgreSQL may run without autovacuum). Workers run with
DJANGO_DEBUG=0 as deployed (--debug for the development default).

Run: `.venv/bin/python benchmarks/bench_judge.py [--judgments 1800] [--workers 2] [--threads 4] [--batch 32] [--no-kill]`
(database ``arena_judge_bench`` on the local PostgreSQL, migrated and emptied of judge runs first;
the workers' broker is a free database of the tests' Redis, ARENA_TEST_REDIS_URL: tests/services.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure  # noqa: E402 - needs ROOT on the path

DB_URL = os.environ.get(
    "ARENA_JUDGE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_judge_bench"
)
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
for name in ("CELERY_BROKER_URL", "REDIS_URL"):
    os.environ.pop(name, None)  # this process only prepares data and reads results

LATENCY = 0.2
CONCURRENCY = 32


def build(judgments: int):
    from arena.models import Answer, Contender, Prompt, PromptSet

    contenders = 4  # 6 pairs, 12 judgments per prompt
    prompts = max(1, judgments // 12)
    pset, _ = PromptSet.objects.get_or_create(slug="bench-judge", defaults={"name": "judge benchmark"})
    models = [Contender.objects.get_or_create(name=f"bench-model-{i}")[0] for i in range(contenders)]
    existing = pset.prompts.count()
    new_prompts = [
        Prompt(prompt_set=pset, external_id=f"b{p}", turns=[f"Benchmark question {p}?"], position=p)
        for p in range(existing, prompts)
    ]
    Prompt.objects.bulk_create(new_prompts)
    have = set(Answer.objects.filter(prompt__prompt_set=pset).values_list("prompt_id", "contender_id"))
    Answer.objects.bulk_create(
        [
            Answer(prompt=p, contender=m, turns=[f"Answer to {p.external_id} by {m.name}. quality:{i}"])
            for p in pset.prompts.all()
            for i, m in enumerate(models)
            if (p.pk, m.pk) not in have
        ]
    )
    return pset


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process so far (Linux /proc); with ``children``, plus its reaped children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def _pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def services_cpu() -> dict[str, float]:
    """CPU so far of this process's server threads (all but the main thread), PostgreSQL (every
    backend, live or reaped: the whole cluster, so other users' queries count too) and Redis."""
    own = time.process_time() - time.thread_time()  # this process minus its main (polling) thread
    postgres = sum(cpu_seconds(pid, children=True) for pid in _pids_named("postgres"))
    redis_cpu = sum(cpu_seconds(pid) for pid in _pids_named("redis-server"))
    return {"fake server": own, "postgres": postgres, "redis": redis_cpu}


def wait_done(run_id: int, timeout: float) -> bool:
    from judge.models import JudgeRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if JudgeRun.objects.filter(pk=run_id, status="done").exists():
            return True
        time.sleep(0.1)
    return False


def vacuum() -> None:
    """Fresh statistics and no dead rows from earlier runs (this server may run without autovacuum,
    and each benchmark run leaves thousands of dead judgment rows that every query then wades through)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "judge_judgment",
            "judge_judgerun",
            "judge_judge",
            "arena_comparison",
            "arena_answer",
            "arena_prompt",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judgments", type=int, default=1800)
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="Celery threads per worker: batches judged at once, each fanning its rows out",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes sharing the judge's 32 slots (as deployed: one per core)",
    )
    parser.add_argument(
        "--batch", type=int, help="judgments per Celery task (JUDGE_TASK_BATCH; default: the app's)"
    )
    parser.add_argument(
        "--no-kill", action="store_true", help="throughput only, without the kill-and-resume part"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="workers with DJANGO_DEBUG=1 (the development default; production workers run without)",
    )
    args = parser.parse_args()

    database_ensure(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Max, Min

    call_command("migrate", verbosity=0)
    from judge.models import Judge, JudgeRun, Judgment
    from judge.services import judge_run_create
    from tests.judge import workers
    from tests.llm_server import FakeLLMServer
    from tests.services import redis_database

    JudgeRun.objects.all().delete()
    Judge.objects.filter(name__startswith="bench-").delete()
    pset = build(args.judgments)
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)

    with redis_database() as redis_url, FakeLLMServer(latency=LATENCY) as llm:
        env = workers.worker_env(DB_URL, redis_url, JUDGE_SLOT_LEASE_SECONDS="3")
        if args.batch:
            env["JUDGE_TASK_BATCH"] = str(args.batch)
        if not args.debug:  # as deployed: no per-query debug cursor, no query log
            env.update(DJANGO_DEBUG="0", SECRET_KEY=secrets.token_urlsafe(48), ALLOWED_HOSTS="127.0.0.1")
        # 1. Throughput.
        judge = Judge.objects.create(
            name="bench-speed",
            base_url=llm.base_url,
            model="fake-judge",
            max_concurrent=CONCURRENCY,
            requests_per_minute=1_000_000,
            price_input_per_million=Decimal("2.5"),
            price_output_per_million=Decimal("10"),
        )
        run = judge_run_create(judge=judge, prompt_set=pset, mode="pairwise", start=False)
        total = run.judgments.count()
        vacuum()
        pool = [
            workers.start_worker(
                env, concurrency=args.threads, name=f"bench{i}", log=log_dir / "bench_judge_worker.log"
            )
            for i in range(args.workers)
        ]
        try:
            time.sleep(4 + args.workers)  # let the workers boot: the figure is judging, not Django's start-up
            booted_cpu = sum(cpu_seconds(w.pid) for w in pool)
            booted_split = [cpu_split(w.pid) for w in pool]
            services_before = services_cpu()
            started = time.time()
            workers.manage(env, "judge_run", "--resume", str(run.pk), "--no-progress")
            ok = wait_done(run.pk, timeout=total / 10 + 60)
            elapsed = time.time() - started
            services_after = services_cpu()
            worker_cpu = sum(cpu_seconds(w.pid) for w in pool)
            worker_user = sum(cpu_split(w.pid)[0] - b[0] for w, b in zip(pool, booted_split, strict=True))
            worker_sys = sum(cpu_split(w.pid)[1] - b[1] for w, b in zip(pool, booted_split, strict=True))
        finally:
            for worker in pool:
                workers.stop(worker)
        stats = llm.stats(log=True)
        log = stats.pop("log")
        if log:  # how busy the server was kept: mean requests in flight from the first start to the last end
            window = max(e["end"] for e in log) - min(e["start"] for e in log)
            busy = sum(e["end"] - e["start"] for e in log) / max(window, 1e-6)
            print(
                f"server: mean {busy:.1f} requests in flight of {CONCURRENCY} over {window:.2f} s "
                f"(first request start to last reply); mean reply time {sum(e['end'] - e['start'] for e in log) / len(log) * 1000:.0f} ms"
            )
        span = Judgment.objects.filter(run=run).aggregate(
            first=Min("completed_at"), last=Max("completed_at"), enqueued=Min("enqueued_at")
        )
        done = Judgment.objects.filter(run=run, status="done").count()
        ceiling = CONCURRENCY / LATENCY
        rate = done / elapsed
        queued = done / max((span["last"] - span["enqueued"]).total_seconds(), 1e-6) if span["last"] else 0.0
        steady = done / max((span["last"] - span["first"]).total_seconds(), 1e-6) if span["first"] else 0.0
        if log and span["enqueued"]:  # where the time before the steady state goes
            enqueued = span["enqueued"].timestamp()
            print(
                f"start: first request {min(e['start'] for e in log) - enqueued:.2f} s after the rows were stamped "
                f"enqueued, first result stored {span['first'].timestamp() - enqueued:.2f} s after"
            )
        print(
            f"judge throughput: {done}/{total} judgments; enqueued to last stored {queued:.1f}/s "
            f"-> {100 * queued / ceiling:.0f} % of the ceiling {ceiling:.0f}/s; "
            f"operator's command started to last stored {rate:.1f}/s ({100 * rate / ceiling:.0f} %, {elapsed:.2f} s, "
            f"includes the manage.py process start-up); first to last stored {steady:.1f}/s "
            f"({100 * steady / ceiling:.0f} %); "
            f"server in-flight high-water {stats['in_flight_max']} (limit {CONCURRENCY}); "
            f"{'finished' if ok else 'NOT FINISHED'}; {args.workers} worker process(es) x {args.threads} threads "
            f"(DJANGO_DEBUG={int(args.debug)}), "
            f"{os.cpu_count()} CPUs"
        )
        per = 1000 * worker_cpu / max(done, 1)
        judging = 1000 * (worker_cpu - booted_cpu) / max(done, 1)
        print(
            f"worker CPU: {worker_cpu:.1f} s in total (start-up included) = {per:.1f} ms per judgment "
            f"({judging:.1f} ms without start-up), so one core "
            f"sustains about {1000 / per:.0f} judgments/s and {ceiling:.0f}/s needs about {ceiling * per / 1000:.1f} "
            f"cores for the workers alone"
        )
        split = {
            name: 1000 * (services_after[name] - services_before[name]) / max(done, 1)
            for name in services_before
        }
        everything = judging + sum(split.values())
        print(
            "CPU per judgment while judging: worker " + f"{judging:.1f} ms "
            f"({1000 * worker_user / max(done, 1):.1f} user + {1000 * worker_sys / max(done, 1):.1f} system), "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms in split.items())
            + f"; all {everything:.1f} ms -> {ceiling:.0f}/s needs {ceiling * everything / 1000:.1f} of "
            f"{os.cpu_count()} cores (postgres: the whole cluster, other users included)"
        )
        assert set(stats["by_key"].values()) == {1}, "a request was sent twice"

        if args.no_kill:
            return
        # 2. Kill and resume.
        llm.reset()
        judge2 = Judge.objects.create(
            name="bench-kill",
            base_url=llm.base_url,
            model="fake-judge-2",
            max_concurrent=CONCURRENCY,
            requests_per_minute=1_000_000,
        )
        run2 = judge_run_create(judge=judge2, prompt_set=pset, mode="pairwise", start=False)
        vacuum()
        worker = workers.start_worker(
            env, concurrency=args.threads, name="doomed", log=log_dir / "bench_judge_worker.log"
        )
        try:
            workers.manage(env, "judge_run", "--resume", str(run2.pk), "--no-progress")
            stored = lambda: Judgment.objects.filter(run=run2).exclude(status="pending").count()  # noqa: E731
            workers.wait_for(lambda: stored() >= total // 3, timeout=120)
        finally:
            workers.kill(worker)
        stored_at_kill = stored()
        time.sleep(0.5)
        sent_before = llm.stats()["total"]
        worker = workers.start_worker(
            env, concurrency=args.threads, name="phoenix", log=log_dir / "bench_judge_worker.log"
        )
        try:
            workers.manage(env, "judge_run", "--resume", str(run2.pk), "--no-progress")
            ok = wait_done(run2.pk, timeout=total / 10 + 60)
        finally:
            workers.stop(worker)
        stats = llm.stats()
        rows = Judgment.objects.filter(run=run2)
        repeated = sum(c - 1 for c in stats["by_key"].values())
        # A request whose reply had been sent, asked again: the worker died between receiving and storing it.
        answered_twice = sum(c - 1 for c in stats["completed_by_key"].values())
        print(
            f"kill/resume: {rows.filter(status='done').count()}/{total} judged ({'finished' if ok else 'NOT FINISHED'}); "
            f"{stored_at_kill} stored before SIGKILL, {sent_before - stored_at_kill} requests in flight at the kill "
            f"({stats['by_status'].get('client_gone', 0)} left before their reply, {answered_twice} replied to "
            f"but not yet stored), {repeated} requests repeated after resume; keys asked more than twice: "
            f"{sum(1 for c in stats['by_key'].values() if c > 2)}; rows stored twice: "
            f"{total - rows.values('comparison_id', 'order').distinct().count()}"
        )


if __name__ == "__main__":
    main()
