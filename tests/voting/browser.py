"""Playwright driving Debian's Chromium against pytest-django's live server, and the checks every
page must pass as a person uses it: no console error, no failed request, no sideways scroll and
no serious accessibility problem (axe-core), at 1440 and 390 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_URL = "/static/vendor/axe-core/axe.min.js"
# Every WCAG 2.0–2.2 A/AA rule (2.2 AA brings target-size: 24 px touch targets) and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@dataclass
class Watch:
    """What a page did that it should not: dialogs opened, requests to other hosts, errors in
    the console (a refused inline style, a script error), responses of 400 or more."""

    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)


def watch(page) -> Watch:  # type: ignore[no-untyped-def]
    seen = Watch()

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        host = urlparse(request.url).hostname or ""
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOCAL_HOSTS:
            seen.foreign_requests.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and seen.failed_responses.append(f"{response.status} {response.request.method} {response.url}")
        ),
    )
    return seen


def sideways_overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def axe_problems(page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's violations of ``impacts`` on the page as it is now, one line per rule with the
    first elements. axe is injected from our own origin (the CSP allows nothing else); no page
    of the product loads it."""
    origin = "{0.scheme}://{0.netloc}".format(urlparse(page.url))
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=origin + AXE_URL)
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes']}" for v in violations if v["impact"] in impacts
    ]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's Chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread while the browser is open; the ORM
    # calls tests and fixtures make between page actions are still plain synchronous code. Module
    # scope: the loop is stopped after this module, so later asyncio tests and other Playwright
    # users in the same run do not find one already running on the thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1440px", "390px"])
def sized_page(chromium, request):  # type: ignore[no-untyped-def]
    """A page at 1440×900 and, as a second run of the test, at 390×844 (a phone's width)."""
    context = chromium.new_context(viewport=request.param)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, live_server, username: str, password: str, next_url: str = "/rate/") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_url}")
