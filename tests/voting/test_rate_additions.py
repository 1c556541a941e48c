"""What issue 17 adds to the rating page, in Chromium at 1440 and 390 px: one-click voting (a
setting and a rater preference) with grades, helpful/honest/harmless and a comment as an optional
step after the reveal; the guidelines in a panel on the page; and, for raters in training, the
reference answer and the imported verdicts on the same pair after the reveal."""

from __future__ import annotations

import pytest

from arena.models import ImportBatch, ImportedVerdict, RaterPreference, VerdictSource, Vote, VoteRevision
from tests import factories
from tests.voting.browser import sideways_overflow, watch
from tests.voting.test_rate_page import open_rate, shown_choice, wait_for_new_panel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class TestOneClickVoting:
    def test_a_rater_switches_it_on_and_votes_with_one_click_then_adds_details(
        self, sized_page, live_server, rater
    ):
        page = sized_page
        factories.blind_comparisons(2)
        seen = watch(page)
        open_rate(page, live_server)
        assert page.locator("#vote-form input[name=choice]").count() == 4  # two-step until the rater switches
        page.get_by_role("button", name="One-click voting: off").click()
        page.wait_for_selector("#vote-form.one-click")
        assert RaterPreference.objects.get(rater=rater).one_click is True

        page.get_by_role("button", name="B is better").click()  # stores the vote at once
        page.wait_for_selector("#reveal")
        vote = Vote.objects.get()
        assert shown_choice(vote) == "B" and vote.grade_a == vote.grade_b == ""

        # The optional step after the reveal: grades, helpful/honest/harmless, a comment.
        details = page.locator("#details-form")
        details.locator("label[for=grade_a-C]").click()
        details.locator("label[for=grade_b-A]").click()
        details.locator("#helpful-B").check()
        details.locator("#comment").fill("B shows its working")
        wait_for_new_panel(page, lambda: details.get_by_role("button", name="Save details").click())
        assert page.locator("[data-reveal=choice]").inner_text() == "B is better"
        assert page.locator("[data-reveal=grades]").inner_text() == "answer A: grade C · answer B: grade A"
        vote.refresh_from_db()
        assert shown_choice(vote) == "B" and vote.comment == "B shows its working" and vote.version == 2
        assert (vote.grade_a, vote.grade_b) == (("C", "A") if vote.a_shown_first else ("A", "C"))
        assert VoteRevision.objects.get(vote=vote).grade_a == ""  # the vote as first cast is kept

        page.get_by_role("link", name="Next").click()
        page.wait_for_selector("#vote-form.one-click")
        assert sideways_overflow(page) == 0
        assert seen.console_errors == [] and seen.failed_responses == []

    def test_by_keyboard_a_digit_votes_and_enter_saves_the_details(
        self, sized_page, live_server, rater, settings
    ):
        settings.ARENA_ONE_CLICK_VOTING = "default"
        page = sized_page
        factories.blind_comparisons(2)
        open_rate(page, live_server)
        assert page.get_by_role("button", name="One-click voting: on").is_visible()
        wait_for_new_panel(page, lambda: page.keyboard.press("3"))
        assert shown_choice(Vote.objects.get()) == "tie"
        for key in ("w", "p", "j"):  # grade A: B, grade B: D, honest: A
            page.keyboard.press(key)
        wait_for_new_panel(page, lambda: page.keyboard.press("Enter"))
        vote = Vote.objects.get()
        assert {vote.grade_a, vote.grade_b} == {"B", "D"} and vote.honest in ("model_a", "model_b")
        wait_for_new_panel(page, lambda: page.keyboard.press("n"))
        wait_for_new_panel(page, lambda: page.keyboard.press("4"))
        assert Vote.objects.filter(winner="both_bad").count() == 1

    def test_studies_that_require_grades_keep_the_two_step_form(self, page, live_server, rater, settings):
        settings.ARENA_ONE_CLICK_VOTING = "off"
        RaterPreference.objects.create(rater=rater, one_click=True)
        factories.blind_comparisons(1)
        open_rate(page, live_server)
        assert page.locator("#one-click-toggle").count() == 0
        assert page.locator("#vote-form input[name=grade_a]").count() == 4
        page.keyboard.press("1")  # chooses, does not submit
        assert page.locator("#choice-A").is_checked() and not Vote.objects.exists()


def test_the_guidelines_open_inside_the_page(sized_page, live_server, rater):
    page = sized_page
    factories.blind_comparisons(1)
    open_rate(page, live_server)
    panel = page.locator("#guide-panel")
    assert not panel.locator("text=irrelevant or invalid").is_visible()
    panel.locator("summary").click()
    text = panel.inner_text()
    assert "D: irrelevant or invalid." in text and "B: acceptable with minor imperfections." in text
    assert "Honest: accurate, admits uncertainty, no invented facts." in text
    assert "Harmless: no dangerous, hateful or deceptive content." in text
    panel.locator("summary").focus()
    page.keyboard.press("Enter")  # closes again by keyboard, and votes nothing
    assert not panel.locator("text=irrelevant or invalid").is_visible() and not Vote.objects.exists()


def _imported(
    source: str, *, human: bool, prompt, winner_name: str, loser_name: str, winner: str = "model_a"
):  # type: ignore[no-untyped-def]
    verdict_source = VerdictSource.objects.create(name=source, is_human=human)
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.VERDICTS,
        source=source,
        file_name=f"{source}.jsonl",
        sha256=source.ljust(64, "0"),
        format="jsonl",
    )
    return ImportedVerdict.objects.create(
        source=verdict_source,
        batch=batch,
        line=1,
        model_a=factories.contender(winner_name),
        model_b=factories.contender(loser_name),
        winner=winner,
        prompt=prompt,
        turn=1,
        rater="expert-7" if human else "",
    )


def test_after_the_reveal_a_rater_in_training_sees_the_reference_and_other_verdicts(
    page, live_server, rater, settings
):
    factories.blind_comparisons(1)  # served first (the queue takes the lowest id among the least voted)
    prompt = factories.prompt(
        factories.prompt_set("rating-set"),
        external_id="train-1",
        turns=["What is 6 × 7?"],
        references=["**42**, since 6 × 7 = 42."],
    )
    factories.blind_comparison(prompt, "model-right", "model-wrong")
    _imported("expert-votes", human=True, prompt=prompt, winner_name="model-right", loser_name="model-wrong")
    _imported(
        "judge-verdicts",
        human=False,
        prompt=prompt,
        winner_name="model-right",
        loser_name="model-wrong",
        winner="tie",
    )

    open_rate(page, live_server)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    assert page.locator("#training").count() == 0  # off by default

    settings.ARENA_REVEAL_TRAINING = True
    page.keyboard.press("n")
    page.wait_for_selector("#vote-form")
    assert "What is 6 × 7?" in page.locator("#rate-panel").inner_text()
    assert "since 6 × 7" not in page.locator("#rate-panel").inner_text()  # nothing of it before the vote
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reveal")
    left, _right = page.locator("#reveal p strong.model-name").all_inner_texts()
    right_side = "A" if left == "model-right" else "B"  # where model-right sat for this rater
    training = page.locator("#training")
    assert training.locator(".reference strong").inner_text() == "42"
    assert "since 6 × 7 = 42." in training.locator(".reference").inner_text()
    rows = [row.split("\t") for row in training.locator("tbody tr").all_inner_texts()]
    assert rows == [
        ["expert-votes · expert-7", "expert", f"{right_side} is better", right_side],
        ["judge-verdicts", "LLM judge", "Tie", right_side],
    ]
