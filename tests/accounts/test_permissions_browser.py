"""The nav and the error pages as people see them, in Chromium at 1440 and 390 px wide."""

from __future__ import annotations

import pytest

from tests.accounts.test_permissions import REPORTS
from tests.voting.browser import log_in
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [(1440, 900), (390, 844)]


def nav(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [text.strip() for text in page.locator(".site-header nav a").all_inner_texts()]


def errors_of(page) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if message.type == "error" else None)
    return seen


def assert_styled_card(page, width: int, heading: str) -> None:  # type: ignore[no-untyped-def]
    assert (
        page.locator(".site-header").evaluate("e => getComputedStyle(e).display") == "flex"
    )  # arena.css loaded
    card = page.locator(".error-page")
    assert card.locator("h1").inner_text() == heading
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
        box
    )  # the message fits the screen
    assert page.get_by_role("link", name="start page").is_visible()


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_each_role_sees_only_the_pages_it_may_open(page, live_server, rater, staff, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/leaderboard/")
    assert nav(page) == REPORTS
    assert page.get_by_role("link", name="Log in").is_visible()

    log_in(page, live_server, "rita", PASSWORD)
    assert nav(page) == ["Rate", "Battle", *REPORTS]
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "stella", PASSWORD, next_url="/leaderboard/")
    assert nav(page) == [
        "Rate",
        "Battle",
        *REPORTS,
        "Judge runs",
        "Evaluate",
        "Raters",
        "Live prompts",
        "Admin",
    ]
    page.get_by_role("link", name="Raters").click()
    page.wait_for_url(f"{live_server.url}/staff/raters/")
    assert page.locator("h1").inner_text() == "Raters"


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_a_stranger_goes_to_the_site_login_and_a_rater_gets_a_styled_403(
    page, live_server, rater, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    console = errors_of(page)
    page.goto(f"{live_server.url}/staff/raters/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/staff/raters/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/raters/")
    assert_styled_card(page, width, "You cannot open this page")
    assert "for the study's staff" in page.locator(".error-page").inner_text()
    assert nav(page) == ["Rate", "Battle", *REPORTS]
    response = page.goto(f"{live_server.url}/judge/runs/")
    assert response is not None and response.status == 403
    assert_styled_card(page, width, "You cannot open this page")
    assert [e for e in console if "403" not in e] == []  # the browser logs the 403 itself, nothing else


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_a_missing_page_is_a_styled_404(page, live_server, width, height):
    page.set_viewport_size({"width": width, "height": height})
    console = errors_of(page)
    response = page.goto(f"{live_server.url}/leaderbord/")
    assert response is not None and response.status == 404
    assert_styled_card(page, width, "Page not found")
    page.get_by_role("link", name="leaderboard").last.click()
    page.wait_for_url(f"{live_server.url}/leaderboard/")
    assert [e for e in console if "404" not in e] == []
