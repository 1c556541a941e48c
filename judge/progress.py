"""Live progress of judge runs: one typed wrapper around ``channel_layer.group_send``.

Workers call ``run_progress_report`` after every judgment; it sends at most one message per run
every JUDGE_PROGRESS_INTERVAL seconds per process (always when ``force``), so a run of thousands
of judgments does not flood the channel layer. The message carries the counts and the rendered
progress fragment that the run page swaps in (htmx ws extension, out-of-band by id).
"""

from __future__ import annotations

import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.template.loader import render_to_string

from judge.selectors import RunProgress, judge_run_progress_get

logger = logging.getLogger(__name__)

PROGRESS_EVENT = "run.progress"

_last_sent: dict[int, float] = {}
_lock = threading.Lock()


def run_group(run_id: int) -> str:
    return f"judge-run-{run_id}"


def progress_html(progress: RunProgress) -> str:
    return render_to_string("judge/run_detail.html#progress", {"progress": progress, "oob": True})


def progress_send(progress: RunProgress) -> None:
    """Send one progress message to everyone watching the run."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": PROGRESS_EVENT, "progress": progress.as_dict(), "html": progress_html(progress)}
    try:
        async_to_sync(layer.group_send)(run_group(progress.run_id), message)
    except Exception:  # a lost channel layer must never fail a judgment
        logger.warning("progress for run %s not sent", progress.run_id, exc_info=True)


def run_progress_report(run_id: int, *, force: bool = False) -> RunProgress | None:
    """Report the run's progress unless one was sent less than the interval ago."""
    now = time.monotonic()
    with _lock:
        last = _last_sent.get(run_id, 0.0)
        if not force and now - last < settings.JUDGE_PROGRESS_INTERVAL:
            return None
        _last_sent[run_id] = now
    progress = judge_run_progress_get(run_id=run_id)
    progress_send(progress)
    return progress
