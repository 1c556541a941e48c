"""What a judge worker does as it starts: connected to Celery's worker signals by
``JudgeConfig.ready`` (a worker sets Django up before it sends them)."""

from __future__ import annotations

import logging

from celery.signals import worker_init, worker_ready

logger = logging.getLogger(__name__)


def warm_up_judge_client(**_: object) -> None:
    """Pay the LLM client's first-request costs at start-up, not at the start of the first run
    (prefork children inherit the warmed modules)."""
    from judge.client import sdk_warm_up

    sdk_warm_up()


def store_spooled_judge_replies(**_: object) -> None:
    """Judge replies a worker of this machine spooled through a database outage and never stored
    (it died or gave up waiting) are written before new work starts."""
    from judge.services.execution import spool_flush
    from judge.services.spool import spool_pending

    if spool_pending():
        try:
            spool_flush()
        except Exception:  # never keep a worker from starting; the next batch tries again
            logger.exception("spooled judge replies not stored yet")


def connect() -> None:
    worker_init.connect(warm_up_judge_client, dispatch_uid="judge.worker.warm_up_judge_client")
    worker_ready.connect(store_spooled_judge_replies, dispatch_uid="judge.worker.store_spooled_judge_replies")
