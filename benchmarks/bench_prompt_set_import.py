"""Custom prompt-set import speed: 10,000 two-turn prompts through import_prompt_set's service,
then the same file again (a no-op) and a file with a tenth of the prompts changed (version 2).

Run: `.venv/bin/python benchmarks/bench_prompt_set_import.py` (DATABASE_URL defaults to the local
PostgreSQL, database ``arena_bench``, migrated first; the benchmark's set is deleted first).
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
N = 10_000


def write(path: Path, changed_every: int | None = None) -> None:
    with path.open("w") as fh:
        for i in range(N):
            suffix = " (revised)" if changed_every and i % changed_every == 0 else ""
            fh.write(
                json.dumps(
                    {
                        "prompt_id": f"p{i}",
                        "category": f"c{i % 12}",
                        "turns": [f"Question {i}: explain topic {i * 7 % 997}.{suffix}", "And why?"],
                        "reference": [f"Reference {i}"],
                    }
                )
                + "\n"
            )


def main() -> None:
    database_ensure(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from arena.models import PromptSet
    from arena.services.prompt_sets import prompt_set_import

    PromptSet.objects.filter(slug="bench-custom").delete()
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "v1.jsonl", Path(tmp) / "v2.jsonl"
        write(first)
        write(second, changed_every=10)
        for label, path in (("version 1", first), ("same file again", first), ("10% changed", second)):
            start = time.perf_counter()
            result = prompt_set_import(path=path, fmt="jsonl", slug="bench-custom")
            print(f"{label:>16}: {time.perf_counter() - start:6.2f} s  ({result.summary()})")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
