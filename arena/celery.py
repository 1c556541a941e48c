"""The Celery app: tasks run inline unless CELERY_BROKER_URL is set (see settings)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
# Rating fits solve many small systems; OpenBLAS's thread pool makes each one ~100x slower on
# a busy machine, and our parallelism comes from processes, not BLAS threads.
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
