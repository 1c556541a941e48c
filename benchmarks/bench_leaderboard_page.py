"""Leaderboard page speed over a million battles.

Goal (issue 6): ``/leaderboard/`` and ``/api/leaderboard/`` answer in under 200 ms with
1,000,000 battles, because they only read the ``RatingSnapshot`` a worker computed.

What it does:
1. Writes 1,000,000 synthetic imported verdicts (30 models, Bradley-Terry-distributed
   outcomes) into PostgreSQL with ``COPY`` under the source ``import:bench-synthetic``.
2. Builds the snapshot through the real path: ``reports.tasks.snapshot_refresh(key, create=True)`` ->
   ``battle_counts`` (one aggregate query) -> the rating package -> ``RatingSnapshot`` (timed and printed).
3. Measures p50/p95/max of 200 requests to each URL with Django's test client (in process,
   full middleware stack, PostgreSQL queries included).

Run: ``.venv/bin/python benchmarks/bench_leaderboard_page.py [--battles N] [--requests N]
[--bootstrap R] [--keep]``. DATABASE_URL defaults to the local PostgreSQL database
``arena_bench_leaderboard`` (created and migrated; its bench rows are replaced unless --keep).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure  # noqa: E402 - needs ROOT on the path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench_leaderboard")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

SOURCE = "bench-synthetic"
MODELS = 30
GOAL_MS = 200.0


def write_verdicts(n: int) -> float:
    """COPY ``n`` verdicts; returns seconds. Outcomes follow a Bradley-Terry model with ties."""
    import numpy as np
    from django.db import connection, transaction

    from arena.models import Contender, ImportBatch, ImportedVerdict, PromptSet, VerdictSource

    started = time.perf_counter()
    ImportedVerdict.objects.filter(source__name=SOURCE).delete()
    ImportBatch.objects.filter(source=SOURCE).delete()
    source, _ = VerdictSource.objects.get_or_create(name=SOURCE, defaults={"is_human": False})
    PromptSet.objects.get_or_create(slug="bench", defaults={"name": "bench"})
    batch = ImportBatch.objects.create(
        kind="verdicts", source=SOURCE, file_name="synthetic", sha256="0" * 64, format="synthetic", rows=n
    )
    ids = [Contender.objects.get_or_create(name=f"bench-model-{i:02d}")[0].id for i in range(MODELS)]
    rng = np.random.default_rng(0)
    strength = np.linspace(-1.5, 1.5, MODELS)
    a = rng.integers(0, MODELS, n)
    b = (a + rng.integers(1, MODELS, n)) % MODELS
    p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
    roll = rng.random(n)
    winner = np.where(roll < 0.1, "tie", np.where(roll < 0.1 + 0.9 * p_a, "model_a", "model_b"))
    chunk = 200_000
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = (
            "COPY arena_importedverdict (source_id, batch_id, line, model_a_id, model_b_id, winner, question_ref, "
            "turn, position_known, judged_order, rater, raw_output, metadata) FROM STDIN"
        )
        with cursor.copy(copy_sql) as copy:
            for start in range(0, n, chunk):
                buf = io.StringIO()
                for i in range(start, min(n, start + chunk)):
                    buf.write(
                        f"{source.id}\t{batch.id}\t{i}\t{ids[a[i]]}\t{ids[b[i]]}\t{winner[i]}\tq{i % 500}"
                        f"\t1\tt\t0\t\t\t{{}}\n"
                    )
                copy.write(buf.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE arena_importedverdict")
    return time.perf_counter() - started


def timings(client, url: str, n: int) -> list[float]:
    client.get(url)  # warm: connection, template compilation, the sources cache
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def report(label: str, ms: list[float]) -> bool:
    ms = sorted(ms)
    p50 = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    ok = p95 < GOAL_MS
    print(
        f"{label:<48} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms   "
        f"{'OK' if ok else 'SLOW'} (goal p95 < {GOAL_MS:.0f} ms)"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="Reuse the verdicts already in the database.")
    args = parser.parse_args()

    database_ensure(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from arena.models import ImportedVerdict, RatingSnapshot
    from reports.selectors.leaderboards import LeaderboardParams
    from reports.tasks import snapshot_refresh

    settings.ALLOWED_HOSTS = ["*"]
    settings.ARENA_BOOTSTRAP_ROUNDS = args.bootstrap  # the page's default, so it reads this snapshot
    call_command("migrate", verbosity=0)
    have = ImportedVerdict.objects.filter(source__name=SOURCE).count()
    if args.keep and have == args.battles:
        print(f"reusing {have:,} verdicts")
    else:
        seconds = write_verdicts(args.battles)
        print(f"COPY {args.battles:,} imported verdicts: {seconds:.1f} s")

    params = LeaderboardParams.from_query({"source": f"import:{SOURCE}", "bootstrap": args.bootstrap})
    RatingSnapshot.objects.filter(key=params.key).delete()
    started = time.perf_counter()
    snapshot_refresh.apply(args=(params.key, True))  # the Celery task (create it), run in this process
    snapshot = RatingSnapshot.objects.get(key=params.key)
    print(
        f"snapshot {params.key}: {snapshot.battle_count:,} battles, {len(snapshot.result['rows'])} models, "
        f"computed in {snapshot.seconds:.1f} s ({time.perf_counter() - started:.1f} s with storing)"
    )

    client = Client()
    query = params.query()
    ok = report(
        f"/leaderboard/ (page, {snapshot.battle_count:,} battles)",
        timings(client, f"/leaderboard/?source=import:{SOURCE}&method=bt", args.requests),
    )
    ok &= report(
        "/leaderboard/ htmx partial",
        timings(
            Client(headers={"HX-Request": "true"}), f"/leaderboard/?source=import:{SOURCE}", args.requests
        ),
    )
    ok &= report("/api/leaderboard/ (JSON)", timings(client, f"/api/leaderboard/?{query}", args.requests))
    ok &= report(
        "/api/leaderboard/ (CSV)", timings(client, f"/api/leaderboard/?{query}&format=csv", args.requests)
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
