"""In Chromium: the leaderboard page shows the rating plot and the table; changing a filter
swaps the results through htmx without a full reload; no CSP violation is reported."""

from __future__ import annotations

import os
import shutil
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page(monkeypatch):
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed")
    # Playwright's sync API runs a loop; undone after the test so it never leaks into the
    # environment of processes later tests start (check --deploy refuses it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page()
        yield tab
        browser.close()
    # The live server's request threads close their database connection when the browser's
    # keep-alive socket closes; give them a moment so the test database can be dropped.
    time.sleep(0.5)


def test_a_visitor_sees_the_plot_and_table_and_filters_without_reload(live_server, page, monkeypatch):
    from django.db import connections

    from tests.factories import build_arena, human_votes, imported_verdicts

    # The live server answers each request in a new thread: close its connection at the end of
    # the request, or the test database cannot be dropped afterwards.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)

    arena = build_arena()
    human_votes(arena)
    imported_verdicts(arena)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/leaderboard/?source=human")

    assert page.locator("svg.ratings-chart").is_visible()
    assert page.locator("svg.ratings-chart title").first.text_content() == "Ratings with confidence intervals"
    assert page.locator("#leaderboard-table tbody tr").count() == 3
    assert page.locator("#leaderboard-table tbody tr").first.get_attribute("data-model") == "alpha"
    assert page.locator("svg.heatmap").is_visible()

    page.evaluate("window.__same_document = true")
    page.select_option("select[name=source]", "import:paper-gpt4")
    page.wait_for_selector("#results:has-text('import:paper-gpt4')")
    assert page.evaluate("window.__same_document") is True
    assert "source=import%3Apaper-gpt4" in page.url or "source=import:paper-gpt4" in page.url
    assert not [p for p in problems if "Content Security Policy" in p]


def test_the_filters_show_what_the_url_names_after_the_back_button(live_server, page, monkeypatch):
    from django.db import connections

    from tests.factories import build_arena, human_votes, imported_verdicts

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena()
    human_votes(arena)
    imported_verdicts(arena)
    page.set_viewport_size({"width": 1440, "height": 900})

    def chosen() -> tuple[str, str]:
        return (
            page.locator("select[name=source]").input_value(),
            page.locator("select[name=method]").input_value(),
        )

    page.goto(f"{live_server.url}/leaderboard/?source=human")
    page.select_option("select[name=source]", "import:paper-gpt4")
    page.wait_for_selector("#results .meta:has-text('import:paper-gpt4')")
    page.select_option("select[name=method]", "elo")
    page.wait_for_selector("#results .meta:has-text('online Elo')")

    page.go_back()  # htmx restores the page it kept for the previous URL
    page.wait_for_selector("#results .meta:has-text('Bradley')")
    assert chosen() == ("import:paper-gpt4", "bt")
    page.go_back()
    page.wait_for_selector("#results .meta:has-text('from human')")
    assert chosen() == ("human", "bt")

    page.go_forward()
    page.go_forward()
    page.wait_for_selector("#results .meta:has-text('online Elo')")
    assert chosen() == ("import:paper-gpt4", "elo")
    page.click("nav a[href='/bias/']")  # leave for another page, then come back
    page.wait_for_url("**/bias/")
    page.go_back()
    page.wait_for_selector("#results .meta:has-text('online Elo')")
    assert chosen() == ("import:paper-gpt4", "elo")


@pytest.mark.parametrize("width", [1440, 390])
def test_the_default_page_ranks_humans_and_sets_provisional_models_apart(
    live_server, page, monkeypatch, width
):
    from django.db import connections

    from tests.factories import build_arena, human_votes, imported_verdicts
    from tests.leaderboards.test_api_and_pages import _newcomer
    from tests.voting.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena()
    human_votes(arena)
    imported_verdicts(arena)
    _newcomer(arena)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/leaderboard/")

    assert page.locator("select[name=source]").input_value() == "human"
    assert page.locator("#leaderboard-table tbody tr").count() == 3
    provisional = page.locator("#provisional-table tbody tr")
    assert provisional.count() == 1 and provisional.first.get_attribute("data-model") == "newbie"
    low = float(provisional.locator("[data-field=ci_low]").text_content())
    high = float(provisional.locator("[data-field=ci_high]").text_content())
    assert high - low > 300
    ranks = [int(t) for t in page.locator("#leaderboard-table [data-field=rank]").all_text_contents()]
    assert ranks == sorted(ranks)
    assert page.locator("#rank-explained").is_visible()
    # Keyboard: the provisional table's scroll region is reachable with Tab.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Provisional models":
            break
    else:
        raise AssertionError("the provisional table cannot be reached with the keyboard")
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_agreement_within_one_source_shows_n_and_intervals(live_server, page, monkeypatch, width):
    from django.db import connections

    from tests.factories import build_arena, human_votes, imported_verdicts
    from tests.voting.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena()
    human_votes(arena)
    imported_verdicts(arena)
    # Staff: a pair outside the canonical set is computed only for them.
    from django.contrib.auth import get_user_model
    from django.test import Client

    staff = get_user_model().objects.create_user("staff-browser", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/agreement/?a=human&b=import:paper-gpt4")
    page.select_option("select[name=b]", "human")  # the same source: agreement among its raters
    page.wait_for_selector("#within-source")
    cell = page.locator("#agreement-table tr[data-turn=all] [data-field=agreement_with_ties]").text_content()
    assert "/54 = " in cell and "[" in cell  # three raters on 18 comparisons: 54 pairs, with an interval
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_bias_page_shows_one_table_per_question_and_says_when_the_order_is_not_recorded(
    live_server, page, monkeypatch, width
):
    from django.db import connections

    from arena.models import ImportedVerdict
    from tests.factories import build_arena, human_votes, imported_verdicts
    from tests.voting.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    arena = build_arena(prompts=20)
    human_votes(arena)
    imported_verdicts(arena)
    pair = imported_verdicts(arena, "pair-gpt4", seed=3)  # single verdicts for both orders, some flagged
    flagged = list(ImportedVerdict.objects.filter(source=pair).values_list("id", flat=True)[:4])
    ImportedVerdict.objects.filter(id__in=flagged).update(winner="tie", metadata={"inconsistent": True})

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/bias/?source=import:paper-gpt4")
    assert page.locator("#position-table tbody tr").count() == 1
    cells = page.locator("#position-table tbody tr td").all_text_contents()
    decisive = ImportedVerdict.objects.filter(source__name="paper-gpt4").exclude(winner="tie").count()
    assert cells[0] == "import:paper-gpt4" and cells[2] == str(decisive) and "–" in cells[4]  # n and interval
    assert page.locator("#length-table").is_visible()
    page.evaluate("window.__same_document = true")
    page.select_option("select[name=source]", "import:pair-gpt4")  # htmx swaps the results
    page.wait_for_selector("#position-table tr[data-source='import:pair-gpt4']")
    assert page.evaluate("window.__same_document") is True
    assert "order not recorded" in page.locator("#position-table").text_content()
    assert "4 of 60 flagged inconsistent" in page.locator("#caveats").text_content()
    assert page.locator("#consistency-table tbody tr td").nth(2).text_content() == "60"
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []


CHART_PROBLEMS = """() => {
  const problems = [];
  for (const chart of document.querySelectorAll('svg.chart')) {
    const box = chart.getBoundingClientRect();
    const room = chart.parentElement.getBoundingClientRect();
    if (box.right > room.right + 0.5 || box.left < room.left - 0.5) problems.push(`${chart.classList} overflows its container`);
    if (box.right > document.documentElement.clientWidth + 0.5) problems.push(`${chart.classList} overflows the window`);
    const view = chart.viewBox.baseVal;
    for (const text of chart.querySelectorAll('text')) {
      const b = text.getBBox();
      const m = text.getCTM && chart.getCTM() ? chart.getCTM().inverse().multiply(text.getCTM()) : null;
      const p = (x, y) => m ? new DOMPoint(x, y).matrixTransform(m) : new DOMPoint(x, y);
      for (const corner of [p(b.x, b.y), p(b.x + b.width, b.y + b.height)]) {
        if (corner.x < view.x - 1 || corner.y < view.y - 1 || corner.x > view.x + view.width + 1)
          problems.push(`${chart.classList}: "${text.textContent}" is cut off`);
      }
    }
  }
  return [...new Set(problems)];
}"""


@pytest.mark.parametrize("width", [390, 1440])
def test_charts_fit_their_container_and_show_long_names(live_server, page, monkeypatch, width):
    from django.db import connections

    from tests.factories import build_arena, human_votes
    from tests.voting.browser import axe_problems, sideways_overflow

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    names = (
        "vicuna-13b-20230322-new-hp-fp16-model-aa",
        "alpaca-13b-instruction-tuned-sft-final-b",
        "guanaco-65b-qlora-merged-adapter-fp16-cc",
    )
    assert all(len(name) == 40 for name in names)
    arena = build_arena(models=names)
    human_votes(arena)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/leaderboard/?source=human")
    assert page.locator("svg.ratings-chart").is_visible() and page.locator("svg.heatmap").is_visible()
    assert page.evaluate(CHART_PROBLEMS) == []
    for name in names:  # in full, as text or as the <title> of a shortened label
        assert page.locator("svg.ratings-chart").evaluate(
            "(svg, name) => [...svg.querySelectorAll('text')].some(t => t.textContent.includes(name))", name
        )
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []
