"""In Chromium at 1440 and 390 px: every evaluation page shows its plots and tables inside the
window (no sideways scroll), filters swap results through htmx (a visitor is told which views it
may not have computed, staff get them), a figure's "browse" link leads to the comparisons it
counts, and a judge's explanation opens from the keyboard."""

from __future__ import annotations

import time

import pytest

from tests.voting.browser import chromium, log_in, watch  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = (
    ("/scores/?source=judge:fake-judge", "#scores-table", "svg.bar-chart"),
    ("/winrate/?source=judge:fake-judge", "#winrate-table", "svg.ratings-chart"),
    ("/grades/?source=judge:fake-judge", "#grade-agreement", "svg.stacked-bars"),
    ("/judges/?human=human", "#judges-table", "svg.bar-chart"),
    ("/comparisons/?source=judge:fake-judge&a=strong", "article.comparison", None),
)


@pytest.fixture
def live_arena(live_server, judged, monkeypatch):
    from django.db import connections

    # The live server answers in its own threads: close their connections after each request.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    yield live_server
    # Requests still in flight when a page closes finish, and close their connection, before the
    # test database is dropped.
    time.sleep(0.5)


@pytest.mark.parametrize("width", [1440, 390])
def test_each_page_fits_the_window_and_shows_its_numbers(chromium, live_arena, width):  # noqa: F811
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = watch(page)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    try:
        for url, table, plot in PAGES:
            page.goto(f"{live_arena.url}{url}")
            assert page.locator(table).first.is_visible(), url
            if plot:
                chart = page.locator(plot).first
                assert chart.is_visible(), url
                box = chart.bounding_box()
                assert box is not None and box["width"] <= width, (url, box)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (url, width, overflow)
        assert not seen.foreign_requests and not seen.dialogs
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        context.close()


def test_a_person_filters_follows_a_figure_and_reads_an_explanation(chromium, live_arena):  # noqa: F811
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("eva-staff", password="pw-for-tests-only", is_staff=True)
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_arena.url}/winrate/?source=judge:fake-judge")
        assert page.locator("#baseline").text_content() == "middle"
        # A visitor may read the default view but not have another weight computed: the results
        # say so, link to the default view and show no numbers.
        page.fill("input[name=strong_weight]", "1")
        page.keyboard.press("Enter")
        page.wait_for_url("**strong_weight=1**")
        page.locator("[data-error=not-computed]").wait_for()
        assert page.locator("#winrate-table").count() == 0

        log_in(page, live_arena, "eva-staff", "pw-for-tests-only", next_url="/judges/")
        page.goto(f"{live_arena.url}/winrate/?source=judge:fake-judge")
        page.evaluate("window.__same_document = true")
        page.fill("input[name=strong_weight]", "1")
        page.keyboard.press("Enter")
        page.wait_for_url("**strong_weight=1**")
        page.locator("#winrate-table").wait_for()  # staff may have any valid weight computed
        assert page.evaluate("window.__same_document") is True  # htmx swapped the results only
        page.locator("#winrate-table tr[data-model=strong] a", has_text="browse").click()
        page.wait_for_url("**/comparisons/**")
        assert page.locator("#comparison-count strong").text_content() == "6"
        summary = page.locator("details.judgment summary").first
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("details.judgment").first.get_attribute("open") is not None
        assert page.locator("details.judgment .text").first.is_visible()
    finally:
        context.close()
