"""The demo's SQLite database under several raters at once: votes are transactions that read
and then write, and the snapshot refresh writes from a thread of its own. None of them may fail
with "database is locked"; they wait their turn (a subprocess on the demo's own settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WRITERS = """
import threading
import django
django.setup()
from django.db import connection, transaction
from arena.models import PromptSet

errors = []

def writer(n):
    try:
        for i in range(40):
            with transaction.atomic():  # read, then write: what a lease or a vote does
                PromptSet.objects.filter(slug__startswith="w").count()
                PromptSet.objects.create(slug=f"w{n}-{i}", name="writer")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(PromptSet.objects.filter(slug__startswith="w").count(), errors[:3])
"""


def test_concurrent_read_then_write_transactions_wait_instead_of_failing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_DEBUG")}
    env.update(ARENA_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="arena.settings", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True, timeout=300)

    result = subprocess.run([sys.executable, "-c", WRITERS], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split(maxsplit=1) == ["240", "[]\n"]
