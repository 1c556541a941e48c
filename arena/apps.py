from django.apps import AppConfig
from django.core import checks


class ArenaConfig(AppConfig):
    default = True  # "arena" in INSTALLED_APPS means this config, not the one below
    name = "arena"
    verbose_name = "Arena"

    def ready(self) -> None:
        # Importing the Celery app makes it the current app, so @shared_task everywhere
        # sends to the configured broker (or runs inline) from web processes too.
        from arena import (
            celery,  # noqa: F401
            receivers,
        )

        receivers.connect()


class DaphneRunserverConfig(AppConfig):
    """The ``daphne`` app for its ``runserver`` command, without ``daphne.apps.DaphneConfig``.

    That config imports ``daphne.server`` (Twisted and autobahn; PERFORMANCE.md) so the asyncio
    reactor is installed early in every process, though only the processes that serve need it:
    ``runserver`` imports the server itself when it runs, and the ``daphne`` command before
    anything else. Listed before ``django.contrib.staticfiles`` so its ``runserver`` wins.
    """

    default = False
    name = "daphne"
    label = "daphne"
    verbose_name = "Daphne"

    def ready(self) -> None:
        checks.register(_runserver_comes_first, checks.Tags.staticfiles)


def _runserver_comes_first(app_configs: object, **kwargs: object) -> list[checks.CheckMessage]:
    """daphne's own check, for this config: it must precede staticfiles to own ``runserver``."""
    from django.apps import apps

    for app in apps.get_app_configs():
        if isinstance(app, DaphneRunserverConfig):
            return []
        if app.name == "django.contrib.staticfiles":
            break
    return [
        checks.Error(
            "arena.apps.DaphneRunserverConfig must be listed before django.contrib.staticfiles "
            "in INSTALLED_APPS.",
            id="arena.E001",
        )
    ]
