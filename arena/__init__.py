"""Arena: the Django project package and the domain app.

The Celery app (arena/celery.py) is made current in ``ArenaConfig.ready`` rather than imported
here, so the pure packages (``arena.ratings``, ``arena.imports.parsers``) import without
Django or Celery.
"""
