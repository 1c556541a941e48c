"""Staff start and watch judge runs in Chromium, against a real daphne (HTTP and the run's
WebSocket) that judges inline, as the demo does, through the tests' OpenAI-compatible server.

The run page must say what happened, list every failure and offer only the buttons the run's
state allows, as that state changes over the socket, without a reload. The new-run form shows
that the estimate is being computed and asks to confirm a large run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from arena.models import Contender
from judge.models import JudgeRun
from tests.judge.workers import daphne_serving, database_url
from tests.voting.browser import chromium, page, watch  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "watch-the-judge-9"
CONFIRM_ABOVE = 8  # judgments: the daphne below asks to confirm bigger runs


@pytest.fixture
def web(transactional_db, tmp_path) -> Iterator[str]:
    """daphne on the test database: in-memory channel layer and inline judging (no Redis, no
    broker), so the progress the judging threads report reaches the page's socket."""
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
        JUDGE_PROGRESS_INTERVAL="0.1",
        JUDGE_CONFIRM_JUDGMENTS=str(CONFIRM_ABOVE),
        JUDGE_BACKOFF_BASE="0.01",
        DB_POOL="0",
    )
    with daphne_serving(env, tmp_path) as base:
        yield base


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("olga", password=PASSWORD, is_staff=True)


def log_in(tab, base: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}/accounts/login/?next={next_url}")
    tab.fill("#id_username", "olga")
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{next_url}")


def status_text(tab) -> str:  # type: ignore[no-untyped-def]
    return tab.locator("[data-field=status-text]").inner_text()


def test_a_failing_run_is_watched_live_from_start_to_failed(web, page, staff, judge, battle_set, llm):  # noqa: F811
    page.set_viewport_size({"width": 1440, "height": 900})
    seen = watch(page)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    llm.configure(
        rates={"400": 1.0}, latency=0.6
    )  # every request refused, slowly: the run lasts a few seconds
    judge.max_concurrent = 1
    judge.save()
    log_in(page, web, "/judge/runs/new/")

    # The estimate is being computed: the page says so, then shows it.
    assert "Choose a judge, a prompt set and a mode" in page.locator("#estimate").inner_text()
    page.select_option("#id_judge", str(judge.pk))
    held = []  # the next estimate request is held until the indicator has been seen
    page.route("**/judge/runs/estimate/", lambda route: held.append(route))
    page.select_option("#id_prompt_set", battle_set.slug)
    page.wait_for_selector("#estimate-busy", state="visible")
    assert held
    for route in held:
        route.continue_()
    page.unroute("**/judge/runs/estimate/")
    page.select_option(
        "#id_contenders", [str(c.pk) for c in Contender.objects.filter(name__in=["strong", "weak"])]
    )
    page.wait_for_selector("#estimate:has-text('4 judgments')")
    assert not page.locator("#estimate-busy").is_visible()
    assert page.locator("#confirm-run").count() == 0  # small: no confirmation asked

    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url(f"{web}/judge/runs/*/")
    page.evaluate("window.__sameDocument = true")
    assert status_text(page).startswith(("Waiting to start", "Running"))
    assert page.locator("[data-action=cancel]").is_visible()
    assert page.locator("[data-action=resume]").count() == 0

    # (expect, not wait_for_function: the page's CSP forbids the eval that one needs)
    expect(page.locator("[data-field=status-text]")).to_have_text(
        "Failed · none of the 4 judgments succeeded (4 failed)", timeout=30_000
    )
    expect(page.locator("#problems-table tr[data-judgment]")).to_have_count(4)
    assert page.locator("[data-action=cancel]").count() == 0
    assert page.locator("[data-action=resume]").count() == 0
    assert page.locator("[data-action=retry-failed]").inner_text() == "Retry 4 failed and unparsed"
    assert page.evaluate("window.__sameDocument") is True  # all of it arrived over the socket
    assert JudgeRun.objects.get().status == "failed"
    assert not seen.foreign_requests and not seen.dialogs and not errors


def test_cancel_and_resume_change_the_buttons_and_the_run_finishes_live_on_a_phone(
    web,
    page,  # noqa: F811
    staff,
    judge,
    battle_set,
    llm,
):
    from judge.services import judge_run_create

    page.set_viewport_size({"width": 390, "height": 844})
    llm.configure(latency=0.4)
    judge.max_concurrent = 1
    judge.save()
    run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1, start=False)
    log_in(page, web, f"/judge/runs/{run.pk}/")
    page.evaluate("window.__sameDocument = true")

    assert status_text(page) == "Waiting to start · 0 of 6 answered (0 %)"
    page.locator("[data-action=cancel]").click()
    page.wait_for_selector("[data-action=resume]")
    assert status_text(page) == "Cancelled · 0 of 6 judged, 6 not sent"
    assert page.locator("[data-action=cancel]").count() == 0
    page.wait_for_selector(f"#run-notice:has-text('Run {run.pk} cancelled')")  # the button's own answer

    page.locator("[data-action=resume]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-action=cancel]")
    assert page.locator("[data-action=resume]").count() == 0
    expect(page.locator("[data-field=status-text]")).to_have_text("Done · all 6 judged", timeout=30_000)
    assert page.locator("#run-actions button").count() == 0
    assert page.evaluate("window.__sameDocument") is True
    # The run's own panel fits the phone (the site header's width is issue 17.7's, not this page's).
    assert page.evaluate(
        "document.getElementById('progress').scrollWidth <= document.getElementById('progress').clientWidth"
    )
    assert page.locator("#progress").bounding_box()["width"] <= 390


def test_a_large_run_starts_only_once_confirmed(web, page, staff, judge, battle_set, llm):  # noqa: F811
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, web, "/judge/runs/new/")
    page.select_option("#id_judge", str(judge.pk))
    page.select_option("#id_prompt_set", battle_set.slug)
    page.wait_for_selector("#estimate:has-text('12 judgments')")
    assert (
        f"above the confirmation threshold ({CONFIRM_ABOVE} judgments"
        in page.locator("#confirm-run").inner_text()
    )

    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector(".errorlist:has-text('This run makes 12 judgments')")
    assert not JudgeRun.objects.exists()

    page.wait_for_selector("#confirm-run")
    page.get_by_label("Start all 12 judgments").check()
    page.wait_for_timeout(300)  # ticking it must not re-estimate (which would untick it)
    assert page.get_by_label("Start all 12 judgments").is_checked()
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url(f"{web}/judge/runs/*/")
    assert JudgeRun.objects.count() == 1


def test_without_a_judge_the_form_says_how_to_add_one(web, page, staff, battle_set):  # noqa: F811
    log_in(page, web, "/judge/runs/new/")
    assert "There is no judge yet." in page.locator("#no-judge").inner_text()
    assert page.locator("select").count() == 0
