"""Watching a run: the page's socket receives the worker's progress reports."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from arena.asgi import application  # noqa: F401 - the routing the server uses
from judge.consumers import RunProgressConsumer
from judge.selectors import RunProgress
from judge.services import progress as progress_module
from judge.services.progress import run_progress_report
from judge.services.slots import redis_client

pytestmark = [pytest.mark.django_db(transaction=True)]


def communicator(run_id: int, user) -> WebsocketCommunicator:
    from channels.routing import URLRouter
    from django.urls import path

    app = URLRouter([path("ws/judge/runs/<int:run_id>/", RunProgressConsumer.as_asgi())])
    comm = WebsocketCommunicator(app, f"/ws/judge/runs/{run_id}/")
    comm.scope["user"] = user
    return comm


@pytest.mark.asyncio
async def test_staff_watching_a_run_receive_progress_as_it_happens():
    from asgiref.sync import sync_to_async

    staff = await sync_to_async(get_user_model().objects.create_user)("olga", is_staff=True)
    comm = communicator(7, staff)
    connected, _ = await comm.connect()
    assert connected
    from decimal import Decimal

    from judge.services.progress import progress_send

    progress = RunProgress(
        run_id=7,
        status="running",
        total=10,
        done=3,
        failed=1,
        unparsed=2,
        pending=4,
        from_cache=0,
        resent=0,
        input_tokens=100,
        output_tokens=20,
        cost=Decimal("0.0125"),
        rate=2.5,
        eta_seconds=1.6,
    )
    await sync_to_async(progress_send)(progress)
    html = await comm.receive_from(timeout=3)
    assert 'id="progress"' in html and 'hx-swap-oob="true"' in html
    assert '<strong data-count="done">3</strong>' in html
    assert '<strong data-count="unparsed">2</strong>' in html
    assert '<strong data-count="pending">4</strong>' in html
    assert "$0.0125" in html and "2.5" in html
    # A report for another run is not forwarded here.
    await sync_to_async(progress_send)(RunProgress(**{**progress.__dict__, "run_id": 8}))
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


@pytest.mark.asyncio
async def test_the_worker_reports_a_real_run_after_each_judgment(judge, battle_set, start_run_async):
    from asgiref.sync import sync_to_async

    staff = await sync_to_async(get_user_model().objects.create_user)("olga", is_staff=True)
    run = await sync_to_async(start_run_async)(
        judge=judge, prompt_set=battle_set, mode="pairwise", start=False
    )
    comm = communicator(run.pk, staff)
    assert (await comm.connect())[0]
    await sync_to_async(start_run_async.start)(run)
    messages = []
    while not await comm.receive_nothing(timeout=0.5):
        messages.append(await comm.receive_from())
    assert len(messages) >= 2
    assert 'data-status="done"' in messages[-1] and '<strong data-count="done">12</strong>' in messages[-1]
    await comm.disconnect()


@pytest.mark.asyncio
async def test_strangers_are_turned_away():
    comm = communicator(7, AnonymousUser())
    connected, code = await comm.connect()
    assert not connected and code == 4403


def test_reports_are_throttled(settings, db, judge, battle_set, start_run):
    settings.JUDGE_PROGRESS_INTERVAL = 60
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, start=False)
    assert run_progress_report(run.pk) is not None
    assert run_progress_report(run.pk) is None
    assert run_progress_report(run.pk, force=True) is not None


def test_with_redis_the_interval_holds_across_processes(
    settings, db, judge, battle_set, start_run, redis_url
):
    settings.REDIS_URL = redis_url
    settings.JUDGE_PROGRESS_INTERVAL = 60
    run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, start=False)
    redis_client(redis_url).delete(f"arena:progress:{run.pk}")
    assert run_progress_report(run.pk) is not None
    progress_module._last_sent.clear()  # another worker process: nothing sent from here yet
    assert run_progress_report(run.pk) is None, "another process reported this run within the interval"
    assert run_progress_report(run.pk, force=True) is not None
    redis_client(redis_url).delete(f"arena:progress:{run.pk}")
