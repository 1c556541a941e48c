"""The live pages' WebSockets under the Content-Security-Policy, in Chromium against daphne: the
leaderboard's and a judge run's sockets to the site itself connect (``connect-src 'self'`` covers
same-origin ws:), while a script's socket to any other host is refused by the browser."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from arena.models import PromptSet
from judge.models import Judge, JudgeRun
from tests.conftest import ROOT
from tests.judge.workers import daphne_serving, database_url
from tests.voting.browser import chromium, log_in, page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER_HOST_SOCKET = """() => new Promise((resolve) => {
  document.addEventListener("securitypolicyviolation",
    (e) => resolve(e.violatedDirective + " " + e.blockedURI), {once: true});
  try { new WebSocket("ws://127.0.0.2:9/ws/leaderboard/"); } catch (e) { /* some builds also throw */ }
  setTimeout(() => resolve("allowed"), 3000);
})"""


@pytest.fixture
def site(transactional_db, tmp_path) -> Iterator[str]:
    """daphne serving Arena (debug settings, in-memory channel layer) on the test database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "JUDGE_", "ARENA_", "DJANGO_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=database_url(connection.settings_dict),
        DJANGO_SETTINGS_MODULE="arena.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    with daphne_serving(env, tmp_path) as url:
        yield url


class _Live:
    def __init__(self, url: str) -> None:
        self.url = url


def test_live_sockets_connect_and_other_hosts_are_refused(site, page):  # noqa: F811 - fixture
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    with page.expect_websocket(lambda ws: ws.url.endswith("/ws/leaderboard/")) as opened:
        page.goto(f"{site}/leaderboard/")
    page.wait_for_selector("html[data-live=connected]")
    assert not opened.value.is_closed()
    assert page.evaluate(OTHER_HOST_SOCKET).startswith("connect-src ws://127.0.0.2:9")

    get_user_model().objects.create_user("olga", password="pw-123-secret", is_staff=True)
    judge = Judge.objects.create(name="j", model="m")
    run = JudgeRun.objects.create(judge=judge, prompt_set=PromptSet.objects.create(slug="s", name="s"))
    run_socket = f"/ws/judge/runs/{run.pk}/"
    with page.expect_websocket(lambda ws: ws.url.endswith(run_socket)) as opened:
        log_in(page, _Live(site), "olga", "pw-123-secret", next_url=f"/judge/runs/{run.pk}/")
    page.wait_for_timeout(1000)
    assert not opened.value.is_closed()  # the consumer accepted a staff member's socket
    assert [v for v in violations if "127.0.0.2" not in v] == []
