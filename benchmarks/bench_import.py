"""Import speed: 100,000 FastChat battles into PostgreSQL through the real import pipeline.

Goal (issue 3): under 10 s. Run: `.venv/bin/python benchmarks/bench_import.py`
(DATABASE_URL defaults to the local PostgreSQL, database ``arena_bench``, which is migrated and
emptied of imported verdicts first).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from arena.databases import database_ensure  # noqa: E402 - needs ROOT on the path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")


def write_battles(path: Path, n: int) -> None:
    models = [f"model-{i:02d}" for i in range(20)]
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    with path.open("w") as fh:
        for i in range(n):
            a = models[i % 20]
            b = models[(i * 7 + 3) % 20]
            if a == b:
                b = models[(i + 1) % 20]
            fh.write(
                json.dumps(
                    {
                        "model_a": a,
                        "model_b": b,
                        "winner": winners[(i * 13) % 4],
                        "question_id": i % 500,
                        "judge": f"rater_{i % 97}",
                        "tstamp": 1.7e9 + i,
                    }
                )
                + "\n"
            )


def main() -> None:
    database_ensure(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from arena.models import ImportBatch, ImportedVerdict
    from arena.services.imports import verdicts_import

    call_command("migrate", verbosity=0)
    ImportedVerdict.objects.all().delete()
    ImportBatch.objects.all().delete()
    n = 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battles.jsonl"
        write_battles(path, n)
        started = time.perf_counter()
        result = verdicts_import(path=path, fmt="fastchat", source="bench")
        elapsed = time.perf_counter() - started
    assert result.created == n, result
    print(
        f"imported {n:,} battles into PostgreSQL in {elapsed:.2f} s ({n / elapsed:,.0f} rows/s); goal < 10 s: "
        f"{'met' if elapsed < 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
