"""The rating page as people use it for hours (issue 17), in Chromium at 1440×900 and 390×844,
with the mouse and the keyboard: every key does what it says where the focus is, the focus comes
back to the page after every swap, long code never breaks the two columns, a vote in flight says
so, a second tab never silently replaces a vote, expressions keep their asterisks."""

from __future__ import annotations

import json
import time

import pytest

from arena.models import Assignment, PromptSet, Vote
from tests import factories
from tests.conftest import ROOT
from tests.voting.browser import DESKTOP, log_in, sideways_overflow, watch
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MT_BENCH = ROOT / "arena" / "data" / "prompt_sets" / "mt_bench" / "question.jsonl"
ANSWERS = ROOT / "arena" / "data" / "demo" / "mt_bench" / "model_answer"


def open_rate(page, live_server, path: str = "/rate/") -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server, "rita", PASSWORD, next_url=path)
    page.wait_for_selector("#vote-form")


def tab_to(page, text: str, *, backwards: bool = False, limit: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Press Tab (or Shift+Tab) until the focused element reads ``text``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"Tab never reached {text!r}")


def wait_for_new_panel(page, action) -> None:  # type: ignore[no-untyped-def]
    """Run ``action`` and wait until htmx has swapped in a new rating panel."""
    page.evaluate("window.__panel = document.getElementById('rate-panel')")
    action()
    page.wait_for_function("() => document.getElementById('rate-panel') !== window.__panel")


def shown_choice(vote: Vote) -> str:
    """The verdict in screen terms (A = left), as the rater chose it."""
    left = "model_a" if vote.a_shown_first else "model_b"
    return {left: "A", "tie": "tie", "both_bad": "both_bad"}.get(vote.winner, "B")


class TestEnterActsWhereTheFocusIs:
    """17.1: on /rate/ Enter was captured page-wide: a link, the Skip button and the shortcuts'
    summary all submitted the vote form instead."""

    def test_enter_on_a_link_follows_it_and_stores_nothing(self, sized_page, live_server, rater):
        factories.blind_comparisons(2)
        open_rate(sized_page, live_server)
        sized_page.keyboard.press("2")
        assert sized_page.locator("#choice-B").is_checked()
        tab_to(sized_page, "Guidelines", backwards=True)
        sized_page.keyboard.press("1")  # a shortcut key with a link focused does nothing
        assert sized_page.locator("#choice-B").is_checked()
        sized_page.keyboard.press("Enter")
        sized_page.wait_for_url(f"{live_server.url}/rate/guidelines/")
        assert not Vote.objects.exists()

    def test_enter_on_the_skip_button_skips(self, sized_page, live_server, rater):
        factories.blind_comparisons(2)
        open_rate(sized_page, live_server)
        sized_page.fill("#skip-reason", "not a language I read")
        sized_page.keyboard.press("Tab")
        assert sized_page.evaluate("document.activeElement.textContent") == "Skip"
        wait_for_new_panel(sized_page, lambda: sized_page.keyboard.press("Enter"))
        skipped = Assignment.objects.get(status=Assignment.Status.SKIPPED)
        assert skipped.skip_reason == "not a language I read"
        assert not Vote.objects.exists()

    def test_enter_on_the_shortcuts_summary_opens_it(self, sized_page, live_server, rater):
        factories.blind_comparisons(1)
        open_rate(sized_page, live_server)
        sized_page.keyboard.press("3")
        tab_to(sized_page, "Keyboard shortcuts")
        sized_page.keyboard.press("Enter")
        assert sized_page.locator("details.shortcuts").get_attribute("open") is not None
        assert sized_page.locator("#vote-form").is_visible() and not Vote.objects.exists()

    def test_enter_on_a_chosen_verdict_submits_that_form(self, sized_page, live_server, rater):
        factories.blind_comparisons(1)
        open_rate(sized_page, live_server)
        sized_page.keyboard.press("3")
        sized_page.keyboard.press("Enter")
        sized_page.wait_for_selector("#reveal")
        assert shown_choice(Vote.objects.get()) == "tie"


class TestFocusReturnsToThePage:
    """17.2: after S, a reason and Enter the focus stayed in the new skip box, so the next 2 was
    typed into it."""

    def test_after_a_skip_the_next_key_is_a_shortcut(self, sized_page, live_server, rater):
        factories.blind_comparisons(3)
        open_rate(sized_page, live_server)
        sized_page.keyboard.press("s")
        sized_page.keyboard.type("cannot judge")
        wait_for_new_panel(sized_page, lambda: sized_page.keyboard.press("Enter"))
        assert sized_page.evaluate("document.activeElement.id") == "rate-panel"
        sized_page.keyboard.press("2")
        assert sized_page.locator("#skip-reason").input_value() == ""
        assert sized_page.locator("#choice-B").is_checked()

    def test_after_the_reveal_and_next_the_keys_work_at_once(self, sized_page, live_server, rater):
        factories.blind_comparisons(2)
        open_rate(sized_page, live_server)
        sized_page.keyboard.press("1")
        wait_for_new_panel(sized_page, lambda: sized_page.keyboard.press("Enter"))
        assert sized_page.evaluate("document.activeElement.id") == "rate-panel"
        wait_for_new_panel(sized_page, lambda: sized_page.keyboard.press("n"))
        assert sized_page.evaluate("document.activeElement.id") == "rate-panel"
        sized_page.keyboard.press("4")
        assert sized_page.locator("#choice-both_bad").is_checked()


def _mt_bench_124(model: str) -> tuple[str, ...]:
    for line in (ANSWERS / f"{model}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["question_id"] == 124:
            return tuple(row["choices"][0]["turns"])
    raise AssertionError(f"no answer of {model} to MT-Bench 124")


def test_a_long_code_line_scrolls_inside_its_card(sized_page, live_server, rater):
    """17.3: MT-Bench's longest-common-subsequence comparison (stablelm's answer has a 400-character
    line of code) grew answer B to 2,348 px at 1440 px and the page to 2,372 px at 390 px."""
    question = next(
        json.loads(line)
        for line in MT_BENCH.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["question_id"] == 124
    )
    prompt = factories.blind_prompt("mt_bench", turns=tuple(question["turns"]), category="coding")
    models = ("stablelm-tuned-alpha-7b", "chatglm-6b")
    factories.blind_comparison(prompt, *models, turn=2, texts={m: _mt_bench_124(m) for m in models})
    open_rate(sized_page, live_server, "/rate/mt_bench/")

    assert sideways_overflow(sized_page) == 0
    for turn in (1, 2):
        widths = sized_page.locator(f".turn[data-turn='{turn}'] .answer").evaluate_all(
            "cards => cards.map(card => card.getBoundingClientRect().width)"
        )
        assert abs(widths[0] - widths[1]) < 1, widths
        viewport = sized_page.viewport_size["width"]
        assert max(widths) <= (viewport / 2 if viewport == DESKTOP["width"] else viewport)
    # The long line is still there, scrolling inside its code block, which takes the keyboard focus.
    scrolling = sized_page.locator(".answer pre").evaluate_all(
        "blocks => blocks.filter(b => b.scrollWidth > b.clientWidth).map(b => b.tabIndex)"
    )
    assert scrolling and all(index == 0 for index in scrolling)


def test_a_vote_in_flight_says_saving(sized_page, live_server, rater, monkeypatch):
    """17.4: while the vote is on its way the page says "Saving…" and the button cannot be pressed again."""
    from arena.views import rate as rate_views

    real = rate_views.vote_submit

    def slow_vote_submit(**kwargs):  # type: ignore[no-untyped-def]
        time.sleep(1.5)
        return real(**kwargs)

    monkeypatch.setattr(rate_views, "vote_submit", slow_vote_submit)
    factories.blind_comparisons(1)
    open_rate(sized_page, live_server)
    sized_page.locator("#vote-form").get_by_text("Tie", exact=True).click()
    sized_page.get_by_role("button", name="Submit vote").click()
    saving = sized_page.locator("#vote-form .saving")
    saving.wait_for(state="visible")
    assert saving.inner_text() == "Saving…"
    assert sized_page.get_by_role("button", name="Submit vote").is_disabled()
    sized_page.wait_for_selector("#reveal")
    assert Vote.objects.count() == 1


def test_a_second_tab_is_told_the_comparison_was_already_voted(page, live_server, rater):
    """17.5: two tabs had the same comparison; A in one and B in the other, and the second tab
    said "You chose A is better" with no message."""
    factories.blind_comparisons(2)
    open_rate(page, live_server)
    second = page.context.new_page()
    second.goto(f"{live_server.url}/rate/")
    assert second.locator("#vote-form").get_attribute("action") == page.locator("#vote-form").get_attribute(
        "action"
    )

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    second.keyboard.press("2")
    second.keyboard.press("Enter")
    notice = second.locator("#already-voted")
    notice.wait_for()
    text = " ".join(notice.inner_text().split())
    assert "already voted on this comparison" in text
    assert "The stored vote is A is better; your choice here, B is better, was not stored." in text
    assert second.locator("[data-reveal=choice]").inner_text() == "A is better"
    assert shown_choice(Vote.objects.get()) == "A"


def test_an_expression_keeps_its_asterisks(page, live_server, rater):
    """17.8: claude-v1's answer to MT-Bench 111 showed "A = pir^2. So the area is: A = pi" in
    italics, the asterisks gone."""
    turns = next(
        tuple(json.loads(line)["choices"][0]["turns"])
        for line in (ANSWERS / "claude-v1.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["question_id"] == 111
    )
    prompt = factories.blind_prompt(
        "mt_bench", turns=("What is the area of the triangle?", "And of the circle around it?")
    )
    factories.blind_comparison(prompt, "claude-v1", "other-model", turn=2, texts={"claude-v1": turns})
    open_rate(page, live_server, "/rate/mt_bench/")
    text = page.locator("#rate-panel").inner_text()
    assert "A = pi*r^2. So the area is:\nA = pi*(sqrt(5))^2 = pi*5" in text
    assert "= 9*sqrt(2) / 2 = 4.5*sqrt(2) square units" in text
    assert page.locator(".answer-body em").count() == 0


class TestSmallThings:
    """17.11, the rating page's part."""

    def test_the_enter_hint_sits_beside_submit(self, sized_page, live_server, rater):
        factories.blind_comparisons(1)
        open_rate(sized_page, live_server)
        button = sized_page.get_by_role("button", name="Submit vote").bounding_box()
        hint = sized_page.locator("#vote-form kbd", has_text="Enter").bounding_box()
        assert hint["width"] < 80  # a key cap, not a full-width box that looks like an input
        assert (
            button["y"] < hint["y"] + hint["height"] / 2 < button["y"] + button["height"]
        )  # on the same line

    def test_a_skip_submitted_with_enter_logs_no_console_error(self, sized_page, live_server, rater):
        factories.blind_comparisons(3)
        seen = watch(sized_page)
        open_rate(sized_page, live_server)
        for reason in ("first reason", "second reason"):
            sized_page.keyboard.press("s")
            sized_page.keyboard.type(reason)
            wait_for_new_panel(sized_page, lambda: sized_page.keyboard.press("Enter"))
        assert Assignment.objects.filter(status=Assignment.Status.SKIPPED).count() == 2
        assert seen.console_errors == [] and seen.failed_responses == []

    def test_prompt_set_tabs_show_names(self, page, live_server, rater):
        factories.blind_comparisons(1, slug="mt_bench")
        PromptSet.objects.filter(slug="mt_bench").update(name="MT-Bench")
        open_rate(page, live_server)
        tabs = page.get_by_role("navigation", name="Prompt sets").get_by_role("link").all_inner_texts()
        assert tabs == ["All sets", "MT-Bench"]

    def test_the_hhh_key_column_reads_as_written(self, page, live_server, rater):
        factories.blind_comparisons(1)
        open_rate(page, live_server)
        keys = page.locator("table.hhh tbody td:last-child").all_inner_texts()
        assert keys == ["H cycles", "J cycles", "K cycles"]
        rows = page.locator("table.hhh tbody th").all_inner_texts()
        assert rows == ["Helpful", "Honest", "Harmless"]

    def test_the_reveal_names_answers_and_grades_apart(self, page, live_server, rater):
        factories.blind_comparisons(1)
        open_rate(page, live_server)
        for key in ("1", "w", "o"):
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_selector("#reveal")
        assert page.locator("[data-reveal=grades]").inner_text() == "answer A: grade B · answer B: grade C"


def test_the_favicon_is_found_on_every_page(page, live_server, staff):
    """17.11: /favicon.ico was 404 on the admin's pages, which name no icon."""
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.ok and page.url.endswith("/static/arena/favicon.svg")
    seen = watch(page)
    log_in(page, live_server, "stella", PASSWORD, next_url="/admin/")
    page.wait_for_load_state("networkidle")
    assert seen.failed_responses == []
