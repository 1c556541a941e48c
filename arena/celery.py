"""The Celery app: tasks run inline unless CELERY_BROKER_URL is set (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _structured_task_logs(sender: Celery, **_: object) -> None:
    from django.conf import settings

    if settings.ARENA_JSON_LOGS:
        from arena.observability import connect_task_logging

        connect_task_logging()
