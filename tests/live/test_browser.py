"""The battle page in Chromium against a real daphne (Redis channel layer) and the tests' streaming
LLM server: two full battles with a follow-up and a vote, both columns streaming at once, the reveal;
no name or endpoint in any frame before the vote; closing the tab closes both upstream streams;
an error mid-stream ends the battle with no vote; 1440 and 390 px, keyboard, axe-core."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from live.models import LiveBattle
from tests.judge.workers import daphne_serving, database_url, wait_for
from tests.live.conftest import add_contender
from tests.voting.browser import axe_problems, chromium, sideways_overflow, watch  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "stream-both-sides-4"
NAMES = ("orca-34b", "heron-8b")


@pytest.fixture
def web(transactional_db, tmp_path, redis_url) -> Iterator[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "JUDGE_", "ARENA_", "DJANGO_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=database_url(connection.settings_dict),
        DJANGO_SETTINGS_MODULE="arena.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        DB_POOL="0",
        ARENA_LIVE_BATTLES_PER_HOUR="50",
    )
    env["REDIS_URL"] = redis_url  # the production layer
    with daphne_serving(env, tmp_path) as base:
        yield base


@pytest.fixture
def contenders(db, llm):
    return [add_contender(llm, name, model=f"{name}-model") for name in NAMES]


@pytest.fixture
def rater(db):
    return get_user_model().objects.create_user("rhea", password=PASSWORD)


def open_battle(browser, web: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    frames: list[str] = []
    tab.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    tab.goto(f"{web}/accounts/login/?next=/battle/")
    tab.fill("#id_username", "rhea")
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{web}/battle/")
    expect(tab.locator("#battle-status")).to_have_text("Ready: type a prompt.")
    return context, tab, frames


def streaming_both(tab) -> bool:  # type: ignore[no-untyped-def]
    """Both columns hold part of their answer while both are still streaming."""
    return bool(
        tab.evaluate(
            "() => ['left', 'right'].every(s => { const t = document.querySelector('#side-' + s + ' .turn:last-child');"
            " return t && t.classList.contains('streaming') && t.textContent.length > 40; })"
        )
    )


def decoded(frames: list[str]) -> list[dict[str, Any]]:
    return [json.loads(f) for f in frames]


@pytest.mark.parametrize(
    "viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}], ids=["1440px", "390px"]
)
def test_two_battles_with_a_follow_up_a_vote_and_the_reveal(
    chromium,  # noqa: F811
    web,
    contenders,
    rater,
    llm,
    viewport,
):
    llm.configure(stream_rate=25.0, stream_words=40)
    context, tab, frames = open_battle(chromium, web, viewport)
    seen = watch(tab)
    assert not axe_problems(tab)
    for battle in range(2):
        tab.fill("#prompt-text", f"Battle {battle}: why is the *sea* salty? <script>alert(1)</script>")
        tab.click("#send-btn")
        assert wait_for(lambda: streaming_both(tab), timeout=10, interval=0.05), (
            "both sides never streamed at once"
        )
        expect(tab.locator("#verdict-form")).to_be_visible()
        # Markdown rendered and sanitised: the heading is HTML, the prompt's script is text.
        assert tab.locator("#side-left h2").count() == 1 and tab.locator("#side-right h2").count() == 1
        assert tab.locator("#side-left script").count() == 0
        # A follow-up by keyboard: P focuses the box, Ctrl+Enter sends.
        tab.locator("body").click(position={"x": 5, "y": 5})
        tab.keyboard.press("p")
        tab.keyboard.type("And why is it not sweet?")
        tab.keyboard.press("Control+Enter")
        expect(tab.locator("#side-left .turn")).to_have_count(2)
        expect(tab.locator("#verdict-form")).to_be_visible()
        assert not axe_problems(tab)
        assert sideways_overflow(tab) == 0
        before_vote = "\n".join(frames)
        for secret in (*NAMES, *(f"{n}-model" for n in NAMES), llm.base_url, "127.0.0.1:"):
            assert secret not in before_vote  # blind: no name, model or endpoint in any frame
        if battle == 0:
            tab.click("#verdict-left")
        else:
            tab.locator("#new-round").focus()
            tab.keyboard.press("Escape")
            tab.keyboard.press("4")  # both are bad, by keyboard
        expect(tab.locator("#reveal")).to_be_visible()
        reveal = tab.locator("#reveal").inner_text()
        assert NAMES[0] in reveal and NAMES[1] in reveal
        assert "counts in the live ratings" in reveal
        assert not axe_problems(tab)
        tab.keyboard.press("Escape")
        tab.keyboard.press("n")  # new round
        expect(tab.locator("#conversation")).to_be_hidden()
        frames.clear()
    battles = list(LiveBattle.objects.order_by("id"))
    assert [b.status for b in battles] == ["voted", "voted"] and [b.turns for b in battles] == [2, 2]
    assert battles[1].winner == "both_bad"
    assert battles[0].winner == ("model_a" if battles[0].a_shown_first else "model_b")
    assert not seen.console_errors and not seen.failed_responses and not seen.foreign_requests
    context.close()


def test_closing_the_tab_mid_stream_closes_both_upstream_streams_within_a_second(
    chromium,  # noqa: F811
    web,
    contenders,
    rater,
    llm,
):
    llm.configure(stream_rate=5.0, stream_words=300)
    context, tab, _ = open_battle(chromium, web, {"width": 1440, "height": 900})
    tab.fill("#prompt-text", "A very long essay, please")
    tab.click("#send-btn")
    assert wait_for(lambda: streaming_both(tab), timeout=15, interval=0.05)
    assert llm.stats()["in_flight"] == 2
    closed_at = time.time()
    context.close()
    assert wait_for(lambda: llm.stats()["in_flight"] == 0, timeout=3, interval=0.02)
    stats = llm.stats(log=True)
    assert stats["by_status"] == {"client_gone": 2}
    assert all(entry["end"] - closed_at < 1.0 for entry in stats["log"]), stats["log"]
    assert wait_for(lambda: LiveBattle.objects.get().status == "abandoned", timeout=3)


def test_an_error_mid_stream_ends_the_battle_with_no_vote(chromium, web, contenders, rater, llm):  # noqa: F811
    llm.configure(
        stream_rate=20.0,
        stream_words=60,
        model_script={f"{NAMES[1]}-model": ["stream_error"]},
        stream_error_after=5,
    )
    context, tab, frames = open_battle(chromium, web, {"width": 390, "height": 844})
    tab.fill("#prompt-text", "Hello there")
    tab.click("#send-btn")
    expect(tab.locator("#battle-status")).to_contain_text("could not be finished")
    expect(tab.locator("#verdict-form")).to_be_hidden()
    assert tab.locator("#send-btn").is_disabled()
    assert NAMES[1] not in "\n".join(frames)
    assert not axe_problems(tab)
    battle = LiveBattle.objects.get()
    assert battle.status == "error" and battle.winner == ""
    tab.click("#new-round")
    expect(tab.locator("#battle-status")).to_have_text("Ready: type a prompt.")
    context.close()
