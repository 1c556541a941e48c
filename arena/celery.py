"""The Celery app: tasks run inline unless CELERY_BROKER_URL is set (see settings).

It belongs to the core (``ArenaConfig.ready`` makes it current, so ``@shared_task`` everywhere
sends through it); what a judge worker does at start-up is judging's (``judge.worker``).
"""

import os

from celery import Celery, Task

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


def task_named(name: str) -> Task:
    """The task registered as ``name``: how a service queues a task without importing the tasks
    module that imports the service, so services stay below their tasks and the import graph has
    no circle. The name is the task's stable ``name=`` (as queued messages and beat know it).

    The apps' ``tasks`` modules are imported on the first call that needs them, as a worker does
    at start (not when Django starts: judging's load the LLM client). Under
    ``CELERY_TASK_ALWAYS_EAGER`` the task's ``apply_async`` runs it inline, as before.
    """
    if name not in app.tasks:
        app.autodiscover_tasks(force=True)
    return app.tasks[name]
