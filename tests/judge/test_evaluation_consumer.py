"""Watching an evaluation: the page's socket (the judge-run consumer on the evaluation's group)
sends the state on connect, then what the evaluation reports; staff only."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.urls import path

from judge.consumers import EvaluationProgressConsumer
from judge.models import Evaluation
from judge.services.evaluations import _Reporter

pytestmark = [pytest.mark.django_db(transaction=True)]

OPTIONS = {
    "contender": "new",
    "prompt_set": "mine",
    "judge": "fake-judge",
    "mode": "single",
    "baseline": None,
    "against": [],
    "turn": None,
    "max_cost": None,
    "max_tokens": 1024,
    "base_url": "",
    "model": "",
    "api_key_env": "",
}


def communicator(evaluation_id: int, user) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    app = URLRouter([path("ws/judge/evaluations/<int:evaluation_id>/", EvaluationProgressConsumer.as_asgi())])
    comm = WebsocketCommunicator(app, f"/ws/judge/evaluations/{evaluation_id}/")
    comm.scope["user"] = user
    return comm


@pytest.mark.asyncio
async def test_staff_get_the_state_then_the_reports_of_this_evaluation_only(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.JUDGE_PROGRESS_INTERVAL = 0
    staff = await sync_to_async(get_user_model().objects.create_user)("olga", is_staff=True)
    create = sync_to_async(Evaluation.objects.create)
    evaluation = await create(token=uuid.uuid4(), options=OPTIONS, judgments_total=4, answers_total=2)
    other = await create(token=uuid.uuid4(), options=OPTIONS)
    comm = communicator(evaluation.pk, staff)
    connected, _ = await comm.connect()
    assert connected
    html = await comm.receive_from(timeout=3)
    assert 'id="progress"' in html and 'hx-swap-oob="true"' in html and "Waiting to start" in html

    await sync_to_async(Evaluation.objects.filter(pk=evaluation.pk).update)(
        status="running", phase="judging", answers_done=2, judgments_done=3
    )
    await sync_to_async(_Reporter(evaluation.pk))(force=True)
    html = await comm.receive_from(timeout=3)
    assert "Running · judging" in html and "3 of 4" in html
    await sync_to_async(_Reporter(other.pk))(force=True)  # another evaluation's report is not sent here
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


@pytest.mark.asyncio
async def test_anonymous_and_raters_are_refused():
    rater = await sync_to_async(get_user_model().objects.create_user)("rita")
    for user in (AnonymousUser(), rater):
        comm = communicator(1, user)
        connected, code = await comm.connect()
        assert not connected and code == 4403
