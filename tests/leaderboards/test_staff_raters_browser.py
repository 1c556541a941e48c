"""In Chromium at 1440 and 390 px: /staff/raters/ lists the anomalous raters with their reasons and
shows the human leaderboard with and without them side by side (stacked on a phone); keyboard
reaches the tables; axe finds no serious violation."""

from __future__ import annotations

import pytest

from tests.leaderboards.test_browser import page  # noqa: F401  # the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 390])
def test_staff_raters_shows_flagged_raters_and_both_leaderboards(live_server, page, monkeypatch, width):  # noqa: F811
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from tests.factories import build_arena, human_votes
    from tests.leaderboards.test_rater_checks import _planted
    from tests.voting.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena()
    human_votes(arena)
    _planted(arena)
    staff = get_user_model().objects.create_user("staff-browser", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/staff/raters/")

    flagged = page.locator("table.flagged-raters tbody tr")
    assert sorted(flagged.evaluate_all("rows => rows.map(r => r.dataset.flagged)")) == ["hasty", "lefty"]
    assert "faster than reading speed" in page.locator("tr[data-flagged=hasty]").text_content()
    clean, everyone = page.locator("#board-table-clean"), page.locator("#board-table-all")
    assert clean.is_visible() and everyone.is_visible()
    clean_box, all_box = clean.bounding_box(), everyone.bounding_box()
    if width == 1440:  # side by side
        assert abs(clean_box["y"] - all_box["y"]) < 2 and all_box["x"] > clean_box["x"]
    else:  # stacked
        assert all_box["y"] > clean_box["y"] + clean_box["height"] - 1
    battles = {
        t.get_attribute("aria-label"): sum(
            int(c) for c in t.locator("[data-field=battles]").all_text_contents()
        )
        for t in page.locator(".side-by-side .table-scroll").all()
    }
    assert battles["With every rater (all)"] == battles["Without flagged raters (clean)"] + 2 * 36
    for _ in range(60):  # keyboard: the flagged raters' scroll region takes focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Flagged raters":
            break
    else:
        raise AssertionError("the flagged raters table cannot be reached with the keyboard")
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []
