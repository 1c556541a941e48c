"""WebSocket routes of every app, gathered for arena.asgi."""

from typing import Any

from django.urls import URLPattern, path

from arena.consumers import LeaderboardConsumer


def _route(route: str, app: Any) -> URLPattern:
    """``path`` for a consumer's ASGI app, as Channels routes them (django-stubs types ``path``
    for HTTP views only)."""
    return path(route, app)


# Any: types-channels types URLRouter's routes with a class that exists only for the type checker.
websocket_urlpatterns: list[Any] = []
websocket_urlpatterns.append(_route("ws/leaderboard/", LeaderboardConsumer.as_asgi()))

from judge.consumers import EvaluationProgressConsumer, RunProgressConsumer  # noqa: E402

websocket_urlpatterns.append(_route("ws/judge/runs/<int:run_id>/", RunProgressConsumer.as_asgi()))
websocket_urlpatterns.append(
    _route("ws/judge/evaluations/<int:evaluation_id>/", EvaluationProgressConsumer.as_asgi())
)

from live.consumers import LiveBattleConsumer  # noqa: E402

websocket_urlpatterns.append(_route("ws/battle/", LiveBattleConsumer.as_asgi()))
