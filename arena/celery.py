"""The Celery app: tasks run inline unless CELERY_BROKER_URL is set (see settings)."""

import os

from celery import Celery
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
# Rating fits solve many small systems; OpenBLAS's thread pool makes each one far slower on a
# busy machine (PERFORMANCE.md), and our parallelism comes from processes, not BLAS threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _structured_task_logs(sender: Celery, **_: object) -> None:
    from django.conf import settings

    if settings.ARENA_JSON_LOGS:
        from arena.observability import connect_task_logging

        connect_task_logging()


@worker_init.connect
def _warm_up_judge_client(**_: object) -> None:
    """Pay the LLM client's first-request costs at start-up, not at the start of the first run
    (prefork children inherit the warmed modules)."""
    from judge.client import sdk_warm_up

    sdk_warm_up()


@worker_ready.connect
def _store_spooled_judge_replies(**_: object) -> None:
    """Judge replies a worker of this machine spooled through a database outage and never stored
    (it died or gave up waiting) are written before new work starts."""
    from judge.services.spool import spool_flush, spool_pending

    if spool_pending():
        try:
            spool_flush()
        except Exception:  # never keep a worker from starting; the next batch tries again
            import logging

            logging.getLogger(__name__).exception("spooled judge replies not stored yet")
