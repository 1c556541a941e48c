"""Judge replies that could not be stored yet: waiting out a database outage, and a local spool.

A judge's reply is paid for. When the database cannot take it (down, restarting, unreachable),
the reply is first written to a file under ``ARENA_VAR_DIR/judge-spool/`` (one small JSON file,
written atomically and synced), then the worker keeps trying to store it and deletes the file
once it is in. Should the worker die or give up meanwhile (after JUDGE_OUTAGE_WAIT_SECONDS), the
file stays, and the next batch any worker on this machine runs (or a worker starting up) writes
it: the row is still pending, so the reply is stored and the request is never sent again.

``with_database`` is the wait itself: a database call retried, with the connection replaced,
until the database answers again or the wait runs out. Only outside a transaction (a broken
transaction cannot be retried from inside). Storing the spooled replies is execution's
(``judge.services.execution.spool_flush``), which owns the claim on each row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")
DATABASE_DOWN = (OperationalError, InterfaceError)
_last_warning = 0.0


def spool_dir() -> Path:
    return Path(settings.VAR_DIR) / "judge-spool"


def with_database(call: Callable[[], T], *, what: str) -> T:
    """``call()``, retried while the database is unreachable (up to JUDGE_OUTAGE_WAIT_SECONDS)."""
    global _last_warning
    deadline = time.monotonic() + settings.JUDGE_OUTAGE_WAIT_SECONDS
    delay = 0.2
    while True:
        try:
            return call()
        except DATABASE_DOWN:
            if connection.in_atomic_block or time.monotonic() > deadline:
                raise
            if time.monotonic() - _last_warning > 10:
                _last_warning = time.monotonic()
                logger.warning("database unavailable (%s): waiting for it to come back", what, exc_info=True)
            with contextlib.suppress(Exception):
                connection.close()  # a broken connection goes back to the pool, which replaces it
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def spool_write(*, judgment_id: int, fields: dict[str, object]) -> Path:
    """Keep a reply on local disk until the database takes it; returns the file."""
    folder = spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{judgment_id}-{uuid.uuid4().hex[:12]}.json"
    partial = path.with_suffix(".partial")
    with open(partial, "w") as fh:
        json.dump({"judgment_id": judgment_id, "fields": fields}, fh, cls=DjangoJSONEncoder)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)
    return path


def spool_pending() -> list[Path]:
    folder = spool_dir()
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except FileNotFoundError:
        return []
