"""A new rater in a real browser: logs in, votes with the mouse and the keyboard, sees the
reveal, goes on to the next without a page reload; an MT-Bench comparison shows both turns."""

from __future__ import annotations

import pytest

from arena.models import Vote
from tests import factories
from tests.voting.browser import log_in, watch
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAMES = ("zephyr-secret-7b", "quokka-hidden-13b")


def test_a_new_rater_votes_with_mouse_then_keyboard(page, live_server, rater):
    factories.blind_comparisons(2)
    seen = watch(page)
    log_in(page, live_server, "rita", PASSWORD)
    page.evaluate("window.__sameDocument = true")  # survives only if Next does not reload the page

    html = page.content()
    assert not any(name in html for name in NAMES)
    assert page.locator(".answer").count() == 2

    # Mouse: verdict, grades, HHH, comment, submit.
    page.locator("#vote-form").get_by_text("A is better", exact=True).click()
    page.locator("label[for=grade_a-A]").click()
    page.locator("label[for=grade_b-C]").click()
    page.locator("#helpful-A").check()
    page.fill("#comment", "A explains its steps.")
    page.get_by_role("button", name="Submit vote").click()
    page.wait_for_selector("#reveal")
    reveal = page.locator("#reveal").inner_text()
    assert (
        "Your vote is in" in reveal
        and "A is better" in reveal
        and "answer A: grade A · answer B: grade C" in reveal
    )
    assert sum(name in reveal for name in NAMES) == 2
    first = Vote.objects.get()
    assert first.comment == "A explains its steps."
    assert first.winner == ("model_a" if first.a_shown_first else "model_b")

    # Next through htmx: a new comparison, no reload, still blind.
    page.get_by_role("link", name="Next").click()
    page.wait_for_selector("#vote-form")
    assert page.evaluate("window.__sameDocument") is True
    assert not any(name in page.content() for name in NAMES)

    # Keyboard only: 2 = B is better, W = grade A "B", P = grade B "D", H twice = helpful B, Enter.
    page.locator("body").click(position={"x": 5, "y": 5})
    for key in ("2", "w", "p", "h", "h"):
        page.keyboard.press(key)
    assert page.locator("#choice-B").is_checked()
    assert page.locator("#helpful-B").is_checked()
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    assert "B is better" in page.locator("#reveal").inner_text()
    second = Vote.objects.exclude(pk=first.pk).get()
    assert second.winner == ("model_b" if second.a_shown_first else "model_a")
    assert (second.grade_a if second.a_shown_first else second.grade_b) == "B"
    assert second.helpful == ("model_b" if second.a_shown_first else "model_a")

    # N: next; nothing is left.
    page.keyboard.press("n")
    page.wait_for_selector(".rate-empty")
    assert page.evaluate("window.__sameDocument") is True
    assert seen.dialogs == [] and seen.foreign_requests == []


def test_a_double_click_on_submit_stores_one_vote(page, live_server, rater):
    factories.blind_comparisons(1)
    log_in(page, live_server, "rita", PASSWORD)
    page.locator("#vote-form").get_by_text("Tie", exact=True).click()
    page.get_by_role("button", name="Submit vote").dblclick()
    page.wait_for_selector("#reveal")
    assert Vote.objects.count() == 1


def test_a_refused_vote_shows_the_reason(page, live_server, rater, settings):
    settings.ARENA_VOTE_RATE_LIMIT = 1
    factories.blind_comparisons(2)
    log_in(page, live_server, "rita", PASSWORD)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    page.keyboard.press("n")
    page.wait_for_selector("#vote-form")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_selector(".rate-error")
    assert "faster than the limit" in page.locator(".rate-error").inner_text()
    assert Vote.objects.count() == 1


def test_a_stranger_is_sent_to_log_in(page, live_server):
    page.goto(f"{live_server.url}/rate/")
    assert "/accounts/login/" in page.url


def test_an_mt_bench_comparison_shows_both_turns(page, live_server, rater):
    p = factories.blind_prompt(
        "mt_bench", turns=("Write a haiku about tea.", "Now translate it to **French**.")
    )
    factories.blind_comparison(
        p,
        "m-one",
        "m-two",
        turn=2,
        texts={
            "m-one": ("Green leaves steep slowly", "```\nFeuilles vertes\n```"),
            "m-two": ("Kettle sings at dawn", "La bouilloire chante"),
        },
    )
    log_in(page, live_server, "rita", PASSWORD, next_url="/rate/mt_bench/")
    turns = page.locator(".turn")
    assert turns.count() == 2
    assert "Write a haiku about tea." in turns.nth(0).inner_text()
    assert "French" in turns.nth(1).locator(".question").inner_text()
    assert turns.nth(1).locator("strong").inner_text() == "French"
    text = page.locator("#rate-panel").inner_text()
    for answer in (
        "Green leaves steep slowly",
        "Feuilles vertes",
        "Kettle sings at dawn",
        "La bouilloire chante",
    ):
        assert answer in text
    assert turns.nth(1).locator("pre code").count() == 1
    assert "judge the whole conversation" in text
