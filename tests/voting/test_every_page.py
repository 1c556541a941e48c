"""Every page of the site at 1440×900 and 390×844 in Chromium (issue 17, items 7 and "accessibility"):
no page scrolls sideways — the header wraps, wide tables scroll in their own box, SVG charts fit
their container — and axe-core finds no serious or critical problem. Also: a skip-to-content link,
touch targets of at least 24 px, and no keyboard hints on a touch screen."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arena.services.raters import rater_invite_create
from arena.services.votes import assignment_lease, vote_submit
from judge.models import Judge, JudgeRun
from tests import factories
from tests.factories import build_arena, human_votes, imported_verdicts
from tests.voting.browser import PHONE, axe_problems, log_in, sideways_overflow
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, rater, staff):  # type: ignore[no-untyped-def]
    """A small arena with something on every page: battles from people and an imported judge,
    comparisons to rate, a vote of the staff user's, a judge run."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0
    settings.ARENA_BOOTSTRAP_ROUNDS = 50
    arena = build_arena()
    human_votes(arena)
    imported_verdicts(arena)
    factories.blind_comparisons(3)
    assignment = assignment_lease(rater=staff)
    vote = vote_submit(rater=staff, assignment_id=assignment.pk, choice="A", grade_a="B", comment="fine").vote
    judge = Judge.objects.create(name="local-judge", model="judge-model", base_url="http://127.0.0.1:9/v1")
    run = JudgeRun.objects.create(judge=judge, prompt_set=arena.prompt_set, status=JudgeRun.Status.DONE)
    return {"vote": vote, "run": run, "invite": rater_invite_create(pool=None, created_by=staff)}


@pytest.fixture
def new_page(chromium):  # type: ignore[no-untyped-def]
    """Pages in contexts of their own (a phone, a touch screen), closed after the test."""
    contexts = []

    def make(**options):  # type: ignore[no-untyped-def]
        contexts.append(chromium.new_context(**options))
        page = contexts[-1].new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def pages(site) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        "/",
        "/leaderboard/",
        "/leaderboard/?source=human&method=elo",
        "/bias/?source=human",
        "/agreement/?a=human&b=import:paper-gpt4",
        "/rate/",
        "/rate/guidelines/",
        "/rate/mine/",
        f"/rate/mine/{site['vote'].pk}/",
        "/staff/raters/",
        "/judge/runs/",
        "/judge/runs/new/",
        f"/judge/runs/{site['run'].pk}/",
        reverse("admin:index"),
        "/battle/",
        "/staff/live-prompts/",
    ]


def check(page, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with the page as it is now, each line naming the page."""
    problems = [f"{where}: {problem}" for problem in axe_problems(page)]
    overflow = sideways_overflow(page)
    if overflow:
        problems.append(f"{where}: {overflow} px wider than the window")
    return problems


def test_every_page_fits_the_window_and_has_no_serious_accessibility_problem(sized_page, live_server, site):
    page = sized_page
    width = page.viewport_size["width"]
    problems: list[str] = []
    for path in ("/accounts/login/", f"/accounts/signup/?invite={site['invite']}"):
        page.goto(f"{live_server.url}{path}")
        problems += check(page, f"{width}px {path}")
    log_in(page, live_server, "stella", PASSWORD, next_url="/")
    for path in pages(site):
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, f"{path}: {response.status}"
        problems += check(page, f"{width}px {path}")
    # The rating page's other states: the reveal, one-click voting, nothing left to rate.
    page.goto(f"{live_server.url}/rate/")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    problems += check(page, f"{width}px /rate/ reveal")
    from arena.services.votes import rater_one_click_set

    rater_one_click_set(rater=site["vote"].rater, one_click=True)
    page.goto(f"{live_server.url}/rate/")
    page.wait_for_selector("#vote-form.one-click")
    problems += check(page, f"{width}px /rate/ one-click")
    page.get_by_role("button", name="Tie").click()
    page.wait_for_selector("#details-form")
    problems += check(page, f"{width}px /rate/ one-click reveal with details")
    page.goto(f"{live_server.url}/rate/rating-set/")
    while page.locator("#vote-form").count():
        page.get_by_role("button", name="Both are bad").click()
        page.wait_for_selector("#reveal")
        page.get_by_role("link", name="Next").click()
        page.wait_for_selector("#vote-form, .rate-empty")
    problems += check(page, f"{width}px /rate/ nothing left")
    assert problems == []


def test_wide_tables_scroll_in_their_box_and_charts_fit_on_a_phone(new_page, live_server, site):
    page = new_page(viewport=PHONE)
    log_in(page, live_server, "stella", PASSWORD, next_url="/staff/raters/")
    box = page.locator(".table-scroll").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the table is wider than the phone …
    assert sideways_overflow(page) == 0  # … and scrolls in its own box, not the page
    box.focus()
    page.keyboard.press("End")  # a keyboard can scroll it too
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-scroll').scrollLeft > 0")

    page.goto(f"{live_server.url}/leaderboard/?source=human")
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    for index in range(charts.count()):
        chart, frame = charts.nth(index).evaluate(
            "svg => [svg.getBoundingClientRect().width, svg.parentElement.getBoundingClientRect().width]"
        )
        assert 0 < chart <= frame <= PHONE["width"]
        assert charts.nth(index).get_attribute("viewBox")  # drawn to scale, not cropped
    ratio = charts.first.evaluate(
        "svg => svg.getBoundingClientRect().height / svg.getBoundingClientRect().width"
    )
    natural = int(charts.first.get_attribute("height")) / int(charts.first.get_attribute("width"))
    assert abs(ratio - natural) < 0.02  # shrunk whole, keeping its proportions
    assert sideways_overflow(page) == 0


def test_the_header_wraps_on_a_phone(new_page, live_server, site):
    page = new_page(viewport=PHONE)
    log_in(page, live_server, "stella", PASSWORD, next_url="/")
    header = page.locator(".site-header").bounding_box()
    assert header["width"] <= PHONE["width"]
    for link in page.locator(".site-header a, .site-header button").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()


def test_a_skip_link_leads_past_the_header(sized_page, live_server, site):
    page = sized_page
    log_in(page, live_server, "rita", PASSWORD, next_url="/rate/")
    page.goto(f"{live_server.url}/rate/")
    page.keyboard.press("Tab")
    link = page.locator(":focus")
    assert link.inner_text() == "Skip to content"
    box = link.bounding_box()
    assert box["y"] >= 0 and box["height"] >= 24  # shown when it has the focus
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("2")  # the page's shortcuts work from there
    assert page.locator("#choice-B").is_checked()


def test_touch_targets_are_at_least_24_px(sized_page, live_server, site):
    page = sized_page
    log_in(page, live_server, "rita", PASSWORD, next_url="/rate/")
    controls = page.locator(
        ".site-header a, .site-header button, .rate-top a, .rate-top button, #vote-form label, #vote-form button, "
        "table.hhh input, #skip-form input, #skip-form button, summary"
    )
    small = [
        f"{control.evaluate('e => e.outerHTML.slice(0, 80)')}: {box['width']:.0f}×{box['height']:.0f}"
        for control in controls.all()
        if (box := control.bounding_box())
        and control.is_visible()
        and (box["width"] < 24 or box["height"] < 24)
    ]
    assert small == []


def test_shortcut_hints_are_hidden_on_a_touch_screen(new_page, live_server, site):
    page = new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    assert page.evaluate("matchMedia('(hover: none)').matches")
    log_in(page, live_server, "rita", PASSWORD, next_url="/rate/")
    assert page.locator("#vote-form").is_visible()
    assert [kbd for kbd in page.locator("kbd").all() if kbd.is_visible()] == []
    assert not page.locator("details.shortcuts").is_visible()

    mouse = new_page(viewport=PHONE)
    log_in(mouse, live_server, "rita", PASSWORD, next_url="/rate/")
    assert mouse.locator("#vote-form kbd").first.is_visible()  # a keyboard still sees them
    assert mouse.locator("details.shortcuts").is_visible()
