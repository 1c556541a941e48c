"""Live progress of judge runs: one typed wrapper around ``channel_layer.group_send``.

Workers call ``run_progress_report`` after every batch; it sends at most one message per run
every JUDGE_PROGRESS_INTERVAL seconds (always when ``force``), so a run of thousands of judgments
does not flood the channel layer. With Redis the interval holds across every worker process
together (one ``SET NX PX`` decides who reports): each report counts the whole run in PostgreSQL,
and per process, eight workers would run sixteen of those counts a second for one page. The
message carries the counts and the rendered progress fragment that the run page swaps in (htmx ws
extension, out-of-band by id).
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


def _cluster_turn(run_id: int, interval: float) -> bool:
    """Whether this process reports now: the first to claim the run's interval in Redis does
    (without Redis there is one process). A Redis hiccup never stops a report."""
    if not settings.REDIS_URL:
        return True
    from judge.services.slots import redis_client

    try:
        return bool(
            redis_client(settings.REDIS_URL).set(
                f"arena:progress:{run_id}", 1, nx=True, px=max(1, int(interval * 1000))
            )
        )
    except Exception:
        logger.warning("progress throttle unavailable", exc_info=True)
        return True


def run_progress_report(run_id: int, *, force: bool = False) -> RunProgress | None:
    """Report the run's progress unless one was sent less than the interval ago."""
    now = time.monotonic()
    interval = settings.JUDGE_PROGRESS_INTERVAL
    with _lock:
        last = _last_sent.get(run_id, 0.0)
        if not force and now - last < interval:
            return None
        _last_sent[run_id] = now
    if not force and interval > 0 and not _cluster_turn(run_id, interval):
        return None
    progress = judge_run_progress_get(run_id=run_id)
    progress_send(progress)
    return progress
