"""In Chromium: the bias page's rater-quality control swaps the results through htmx."""

from __future__ import annotations

import pytest

from tests.leaderboards.test_browser import page  # noqa: F401 - the Chromium tab fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 390])
def test_the_bias_page_chooses_clean_or_all_raters(live_server, page, monkeypatch, width):  # noqa: F811
    from django.db import connections

    from tests.leaderboards.conftest import build_arena, human_votes
    from tests.leaderboards.test_report_filters import gold_comparison
    from tests.rating.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena()
    votes = len(human_votes(arena))
    gold = gold_comparison(arena)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/bias/?source=human")
    control = page.locator("select[name=rater_quality]")
    assert control.input_value() == "clean"
    assert page.locator("#results .meta strong").first.text_content() == str(votes - gold)

    page.evaluate("window.__same_document = true")
    control.select_option("all")
    page.wait_for_selector("#results .meta:has-text('every human vote')")
    assert page.evaluate("window.__same_document") is True  # htmx swapped the results
    assert "rater_quality=all" in page.url
    assert page.locator("#results .meta strong").first.text_content() == str(votes)
    assert control.input_value() == "all"
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []

