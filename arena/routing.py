"""WebSocket routes of every app, gathered for arena.asgi."""

from django.urls import path

from arena.consumers import LeaderboardConsumer

websocket_urlpatterns: list = []
websocket_urlpatterns.append(path("ws/leaderboard/", LeaderboardConsumer.as_asgi()))

from judge.consumers import EvaluationProgressConsumer, RunProgressConsumer  # noqa: E402

websocket_urlpatterns.append(path("ws/judge/runs/<int:run_id>/", RunProgressConsumer.as_asgi()))
websocket_urlpatterns.append(path("ws/judge/evaluations/<int:evaluation_id>/", EvaluationProgressConsumer.as_asgi()))

from live.consumers import LiveBattleConsumer  # noqa: E402

websocket_urlpatterns.append(path("ws/battle/", LiveBattleConsumer.as_asgi()))
