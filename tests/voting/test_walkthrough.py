"""Issue 4's "done when", as a person would try it on the demo: sign up, log out and back in,
rate twenty comparisons from each of the three bundled prompt sets (with the mouse and with the
keyboard), skip one, and see every reveal and the progress counts, in Chromium.

The votes then carry everything the ratings need, and each is a human battle.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from arena.models import Assignment, Vote
from reports.selectors.battle_records import battles_list
from tests.voting.browser import log_in, watch
from tests.voting.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PER_SET = 20
SETS = ("vicuna80", "mt_bench", "user_oriented_252")
SET_NAMES = {
    "vicuna80": "Vicuna-80",
    "mt_bench": "MT-Bench",
    "user_oriented_252": "Self-Instruct User-Oriented-252",
}
# (choice, grade of A, grade of B) per vote, with the keys that choose them.
MOUSE = [("A is better", "A", "C"), ("B is better", "B", "A"), ("Tie", "B", "B"), ("Both are bad", "D", "D")]
KEYS = [("1", "q", "o"), ("2", "w", "u"), ("3", "w", "i"), ("4", "r", "p")]
CHOSEN = {"A is better": "A", "B is better": "B", "Tie": "tie", "Both are bad": "both_bad"}


def progress(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(votes today, votes in this set) as the page shows them."""
    return (
        int(page.locator("[data-progress=today]").inner_text()),
        int(page.locator("[data-progress=in-set]").inner_text()),
    )


def vote_with_mouse(page, number: int) -> str:  # type: ignore[no-untyped-def]
    choice, grade_a, grade_b = MOUSE[number % len(MOUSE)]
    page.locator("#vote-form").get_by_text(choice, exact=True).click()
    page.locator(f"label[for=grade_a-{grade_a}]").click()
    page.locator(f"label[for=grade_b-{grade_b}]").click()
    page.locator("#helpful-A").check()
    page.locator("#honest-same").check()
    page.get_by_role("button", name="Submit vote").click()
    return CHOSEN[choice]


def vote_with_keyboard(page, number: int) -> str:  # type: ignore[no-untyped-def]
    keys = KEYS[number % len(KEYS)]
    page.locator(".rate-meta").click()  # focus on the page, outside any text box
    for key in (*keys, "h", "j", "j", "j"):  # helpful: A; honest: A, B, the same
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    return {"1": "A", "2": "B", "3": "tie", "4": "both_bad"}[keys[0]]


def test_a_new_rater_rates_twenty_in_each_bundled_set(page, live_server, settings):
    call_command("load_demo", verbosity=0)
    settings.ARENA_OPEN_SIGNUP = True
    settings.ARENA_VOTE_RATE_LIMIT = 1000  # a script votes faster than the 30 a minute a person may
    seen = watch(page)
    failed: list[str] = []
    page.on(
        "response",
        lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"),
    )

    # Sign up, read the guidelines, log out, log in again.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_username", "newcomer")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server.url}/rate/guidelines/")
    assert "irrelevant or invalid" in page.content()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    log_in(page, live_server, "newcomer", PASSWORD)

    done_today = 0
    for set_number, slug in enumerate(SETS):
        page.get_by_role("navigation", name="Prompt sets").get_by_role(
            "link", name=SET_NAMES[slug], exact=True
        ).click()
        page.wait_for_url(f"{live_server.url}/rate/{slug}/")
        page.evaluate("window.__sameDocument = true")  # survives only while Next does not reload
        if slug == "user_oriented_252":
            page.fill("#skip-reason", "I cannot judge this one")
            page.get_by_role("button", name="Skip").click()
            page.wait_for_selector("#vote-form")
        for number in range(PER_SET):
            assert progress(page) == (done_today, number)
            assert page.locator(".model-name").count() == 0
            blind = page.locator("#rate-panel").inner_html()
            if slug == "mt_bench":
                assert page.locator(".turn").count() == 2
            by_keyboard = (number + set_number) % 2 == 1
            chosen = vote_with_keyboard(page, number) if by_keyboard else vote_with_mouse(page, number)
            page.wait_for_selector("#reveal")
            done_today += 1
            names = page.locator("#reveal .model-name").all_inner_texts()
            assert len(names) == 2 and all(names)
            assert not any(name in blind for name in names), "a model name was on the page before the vote"
            shown = page.locator("[data-reveal=choice]").inner_text()
            assert CHOSEN.get(shown) == chosen
            assert progress(page) == (done_today, number + 1)
            if by_keyboard:
                page.keyboard.press("n")
            else:
                page.get_by_role("link", name="Next").click()
            page.wait_for_selector("#vote-form")
        assert page.evaluate("window.__sameDocument") is True

    newcomer = get_user_model().objects.get(username="newcomer")
    votes = Vote.objects.filter(rater=newcomer)
    assert votes.count() == PER_SET * len(SETS)
    for slug in SETS:
        assert votes.filter(comparison__prompt__prompt_set__slug=slug).count() == PER_SET
    for vote in votes.select_related("assignment"):
        assert vote.assignment.status == Assignment.Status.VOTED
        assert vote.assignment.comparison_id == vote.comparison_id
        assert vote.a_shown_first == vote.assignment.a_shown_first
        assert vote.grade_a in {"A", "B", "C", "D"} and vote.grade_b in {"A", "B", "C", "D"}
        assert vote.honest == "same" and vote.helpful in {"model_a", "model_b"}
        assert vote.created_at >= vote.assignment.leased_at
    skipped = Assignment.objects.get(rater=newcomer, status=Assignment.Status.SKIPPED)
    assert skipped.skip_reason == "I cannot judge this one"
    assert not votes.filter(comparison_id=skipped.comparison_id).exists()

    battles = [b for b in battles_list(source="human") if b.rater == f"user:{newcomer.pk}"]
    assert len(battles) == PER_SET * len(SETS)
    assert {b.prompt_set for b in battles} == set(SETS)
    assert seen.dialogs == [] and seen.foreign_requests == []
    assert failed == []


def test_a_new_rater_walks_through_the_demo_at_both_widths(chromium, live_server, settings):
    """Issue 17's "done when" (tests/voting/walkthrough.py, also run by hand against `make demo`):
    a dozen leaderboard pages first, then 50 votes across the three sets at 1440 and 390 px by
    mouse, keyboard and one click, a skip per width and a changed vote — no sideways scroll, no
    console error, no failed request."""
    from arena.models import VoteRevision
    from arena.services.demo import DEMO_PASSWORD, DEMO_USERNAME
    from tests.voting.walkthrough import walk

    call_command("load_demo", verbosity=0)
    settings.ARENA_VOTE_RATE_LIMIT = 1000  # the script does not wait as a person would
    settings.ARENA_BOOTSTRAP_ROUNDS = 100
    report = walk(
        base=live_server.url,
        staff=(DEMO_USERNAME, DEMO_PASSWORD),
        username="walker",
        password=PASSWORD,
        votes=50,
        pace=0,
        browser=chromium,
        ignore_console=("/ws/leaderboard/",),
    )  # the live server speaks HTTP only, no WebSocket
    print(report.summary())
    assert report.problems == []
    assert sum(report.votes.values()) == 50 and report.skips == 2 and report.changed == 2
    assert {width for width, _, _ in report.votes} == {"1440", "390"}
    assert {mode for _, _, mode in report.votes} == {
        "mouse",
        "keyboard",
        "one-click mouse",
        "one-click keyboard",
    }
    walker = get_user_model().objects.get(username="walker")
    votes = Vote.objects.filter(rater=walker)
    assert votes.count() == 50
    assert {v.comparison.prompt.prompt_set.slug for v in votes} == set(SETS)
    assert len([b for b in battles_list(source="human") if b.rater == f"user:{walker.pk}"]) == 50
    assert votes.filter(winner="tie", version__gt=1).count() >= 1  # the vote changed on My votes
    assert VoteRevision.objects.filter(vote__rater=walker).count() >= 2
    assert Assignment.objects.filter(rater=walker, status=Assignment.Status.SKIPPED).count() == 2
