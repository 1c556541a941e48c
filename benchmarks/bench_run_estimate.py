"""The cost estimate of /judge/runs/new/ at the size that took 11.3 s (issue 17.9).

Goal: under 1 s for MT-Bench with every demo contender, pairwise, both turns (158,596 judgments).

What it does: builds the demo database as ``make demo`` does (SQLite, in a temporary
ARENA_VAR_DIR), adds a judge, then times ``judge_run_estimate`` and the page's estimate request
(``POST /judge/runs/estimate/`` through Django's test client, signed in as staff) ``--repeat``
times each, and prints the figures with the estimate itself. For comparison it also times
building the run's plan (``judge_run_plan``: every request as an object), which is what the
estimate used to do before rendering and hashing every request.

Run: ``.venv/bin/python benchmarks/bench_run_estimate.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.bench_vote_demo import demo_database, demo_env  # noqa: E402 - needs ROOT on the path

GOAL_SECONDS = 1.0


def timed(repeat: int, call) -> list[float]:  # type: ignore[no-untyped-def]
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def line(label: str, seconds: list[float]) -> str:
    return (
        f"  {label:<44} median {statistics.median(seconds) * 1000:7.0f} ms   max {max(seconds) * 1000:7.0f} ms"
        f"   (n={len(seconds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="arena-bench-estimate-"))
    try:
        demo_database({**demo_env(var_dir), "ALLOWED_HOSTS": "testserver"})
        from django.contrib.auth import get_user_model
        from django.test import Client

        from arena.models import PromptSet
        from judge.models import Judge
        from judge.services import judge_run_estimate, judge_run_plan

        judge = Judge.objects.create(
            name="bench-judge",
            model="gpt-4o",
            base_url="http://127.0.0.1:9/v1",
            price_input_per_million=Decimal("2.5"),
            price_output_per_million=Decimal(10),
        )
        mt_bench = PromptSet.objects.get(slug="mt_bench")
        estimate = judge_run_estimate(judge=judge, prompt_set=mt_bench, mode="pairwise")
        service = timed(
            args.repeat, lambda: judge_run_estimate(judge=judge, prompt_set=mt_bench, mode="pairwise")
        )

        client = Client()
        client.force_login(get_user_model().objects.create_user("bench-staff", is_staff=True))
        form = {"judge": judge.pk, "prompt_set": "mt_bench", "mode": "pairwise", "inconsistent": "tie"}
        answers = []
        page = timed(args.repeat, lambda: answers.append(client.post("/judge/runs/estimate/", form)))
        shown = re.search(r"<strong>([\d,]+)</strong> judgments", answers[-1].content.decode())
        plan = timed(min(args.repeat, 3), lambda: judge_run_plan(prompt_set=mt_bench, mode="pairwise"))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    print(
        f"\nMT-Bench, every demo contender, pairwise, both turns: {estimate.judgments:,} judgments, "
        f"{estimate.input_tokens:,} input tokens, ${estimate.cost:,.2f} at $2.50/$10 per million; "
        f"SQLite, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(line("judge_run_estimate", service))
    print(line("POST /judge/runs/estimate/ (the page's request)", page))
    print(line("judge_run_plan (every request as an object)", plan))
    print(f"  the page shows {shown.group(1) if shown else '?'} judgments")
    worst = max(page)
    print(
        f"  goal < {GOAL_SECONDS:.0f} s for the page's estimate: {'met' if worst < GOAL_SECONDS else 'NOT met'} "
        f"(slowest {worst:.2f} s)"
    )


if __name__ == "__main__":
    main()
