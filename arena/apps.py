from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "arena"
    verbose_name = "Arena"

    def ready(self) -> None:
        # Importing the Celery app makes it the current app, so @shared_task everywhere
        # sends to the configured broker (or runs inline) from web processes too.
        from arena import (
            celery,  # noqa: F401
            signals,
        )

        signals.connect()
