"""In Chromium: the bias page's rater-quality control swaps the results through htmx, and the
leaderboard's category list follows the prompt set chosen (categories belong to a set)."""

from __future__ import annotations

import pytest

from tests.leaderboards.test_browser import page  # noqa: F401 - the Chromium tab fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _staff_cookie(page, live_server) -> None:  # noqa: F811 - the fixture's value
    """Log the tab in as staff: a category is outside the canonical set, computed only for staff."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.create_user("staff-filters", password="x", is_staff=True))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_the_bias_page_chooses_clean_or_all_raters(live_server, page, monkeypatch, width):  # noqa: F811
    from django.db import connections

    from tests.factories import build_arena, human_votes
    from tests.leaderboards.test_report_filters import gold_comparison
    from tests.voting.browser import axe_problems, sideways_overflow

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


def _categories(page) -> list[str]:  # noqa: F811
    return [
        v
        for v in page.locator("select[name=category] option").evaluate_all("os => os.map(o => o.value)")
        if v
    ]


def test_the_category_list_follows_the_prompt_set(live_server, page, monkeypatch):  # noqa: F811
    from django.db import connections

    from tests.factories import build_arena, human_votes
    from tests.voting.browser import axe_problems

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    human_votes(build_arena(set_slug="sheets", categories=("budget", "formulas")))
    human_votes(
        build_arena(models=("alpha", "beta"), set_slug="reviews", categories=("hotels", "restaurants"))
    )
    _staff_cookie(page, live_server)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/leaderboard/?source=human&prompt_set=sheets")
    assert _categories(page) == ["budget", "formulas"]
    page.select_option("select[name=category]", "budget")
    page.wait_for_selector("#results .meta:has-text('category budget')")

    page.evaluate("window.__same_document = true")
    page.select_option("select[name=prompt_set]", "reviews")
    page.wait_for_selector("#results .meta:has-text('on reviews')")
    assert page.evaluate("window.__same_document") is True
    # The new set's categories, from every category (the old one is no category of this set).
    assert _categories(page) == ["hotels", "restaurants"]
    assert page.locator("select[name=category]").input_value() == ""
    assert page.locator("#results [data-error]").count() == 0
    assert "prompt_set=reviews" in page.url and "category=budget" not in page.url

    page.select_option("select[name=category]", "hotels")  # the swapped-in list still drives the form
    page.wait_for_selector("#results .meta:has-text('category hotels')")
    assert "category=hotels" in page.url

    page.select_option("select[name=prompt_set]", "")  # every set: every set's categories
    page.wait_for_selector("#results .meta:not(:has-text('on reviews'))")
    assert _categories(page) == ["budget", "formulas", "hotels", "restaurants"]
    assert page.locator("select[name=category]").input_value() == ""
    assert not [p for p in problems if "/ws/" not in p]  # the test server speaks no WebSocket
    assert axe_problems(page) == []
