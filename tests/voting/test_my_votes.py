"""17.6: /rate/mine/ listed models in stored order under "answer A · answer B" and read "Model B"
for a vote for the left answer. Now it shows what the rater saw (A left, B right), the prompt,
grades, helpful/honest/harmless and the comment, and lets them change a vote within
ARENA_VOTE_EDIT_SECONDS, keeping every earlier version."""

from __future__ import annotations

import pytest
from django.utils import timezone

from arena.models import Vote
from arena.services.votes import assignment_lease, vote_submit
from reports.selectors.battle_records import battles_list
from tests import factories
from tests.voting.browser import log_in, sideways_overflow, watch
from tests.voting.conftest import PASSWORD

HTMX = {"HTTP_HX_REQUEST": "true"}


def names_as_seen(page) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    left, right = page.locator("#reveal p strong.model-name").all_inner_texts()
    return left, right


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_my_votes_shows_what_the_rater_saw_and_a_vote_changes_with_its_history(
    sized_page, live_server, rater
):
    page = sized_page
    factories.blind_comparison(
        factories.blind_prompt(turns=("Name a colour of the sea.",)), "model-one", "model-two"
    )
    seen = watch(page)
    log_in(page, live_server, "rita", PASSWORD)

    # Mouse: the left answer is better, graded B; helpful: A; a comment.
    page.locator("#vote-form").get_by_text("A is better", exact=True).click()
    page.locator("label[for=grade_a-B]").click()
    page.locator("#helpful-A").check()
    page.fill("#comment", "left is clearer")
    page.get_by_role("button", name="Submit vote").click()
    page.wait_for_selector("#reveal")
    left, right = names_as_seen(page)

    page.get_by_role("link", name="My votes").click()
    page.wait_for_url(f"{live_server.url}/rate/mine/")
    card = page.locator(".my-vote").first
    assert "Name a colour of the sea." in card.inner_text()
    assert card.locator("[data-side=A]").inner_text() == left
    assert card.locator("[data-side=B]").inner_text() == right
    assert card.locator("[data-reveal=choice]").inner_text() == f"A is better ({left})"
    assert card.locator("[data-reveal=grades]").inner_text() == "answer A: grade B · answer B: no grade"
    assert card.locator("[data-reveal=hhh]").inner_text() == "A · — · —"
    assert card.locator("[data-reveal=comment]").inner_text() == "left is clearer"
    assert sideways_overflow(page) == 0

    # Keyboard: change it to "B is better" on the vote's page; the form holds the focus, Enter saves.
    card.get_by_role("link", name="Change this vote").click()
    page.wait_for_selector("#change-form")
    assert page.locator("#choice-A").is_checked() and page.locator("#grade_a-B").is_checked()
    page.locator("h1").click()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/rate/mine/#vote-*")
    assert page.locator(".rate-notice").inner_text() == "Your vote is now: B is better."
    card = page.locator(".my-vote").first
    assert card.locator("[data-reveal=choice]").first.inner_text() == f"B is better ({right})"
    card.locator(".earlier-versions summary").click()
    earlier = card.locator(".earlier-versions [data-version='1']")
    assert earlier.locator("[data-reveal=choice]").inner_text() == f"A is better ({left})"
    assert earlier.locator("[data-reveal=comment]").inner_text() == "left is clearer"

    vote = Vote.objects.get()
    assert vote.version == 2 and vote.revisions.filter(version=1).exists()
    [battle] = battles_list(source="human")
    assert battle.winner == ("model_b" if vote.a_shown_first else "model_a")  # the latest version counts
    assert seen.console_errors == [] and seen.failed_responses == []


@pytest.mark.django_db
class TestChangePage:
    def cast(self, rater, choice: str = "A") -> Vote:  # type: ignore[no-untyped-def]
        factories.blind_comparisons(1)
        assignment = assignment_lease(rater=rater)
        return vote_submit(rater=rater, assignment_id=assignment.pk, choice=choice).vote

    def test_after_the_window_the_vote_shows_but_cannot_change(self, rater_client, rater, settings):
        vote = self.cast(rater)
        Vote.objects.filter(pk=vote.pk).update(created_at=timezone.now() - timezone.timedelta(seconds=601))
        settings.ARENA_VOTE_EDIT_SECONDS = 600
        page = rater_client.get(f"/rate/mine/{vote.pk}/").content.decode()
        assert "have passed" in page and 'id="change-form"' not in page
        assert "Change this vote" not in rater_client.get("/rate/mine/").content.decode()
        refused = rater_client.post(f"/rate/mine/{vote.pk}/", {"version": "1", "choice": "B"})
        assert refused.status_code == 409 and "no longer can" in refused.content.decode()
        assert Vote.objects.get().version == 1

    def test_another_raters_vote_is_not_found(self, client, rater, other_rater):
        vote = self.cast(rater)
        client.force_login(other_rater)
        assert client.get(f"/rate/mine/{vote.pk}/").status_code == 404
        assert client.post(f"/rate/mine/{vote.pk}/", {"version": "1", "choice": "B"}).status_code == 404
        assert Vote.objects.get().version == 1

    def test_a_bad_value_names_what_is_allowed(self, rater_client, rater):
        vote = self.cast(rater)
        response = rater_client.post(f"/rate/mine/{vote.pk}/", {"version": "1", "choice": "left"}, **HTMX)
        assert response.status_code == 400 and "Choose one of" in response.content.decode()
        response = rater_client.post(f"/rate/mine/{vote.pk}/", {"version": "x", "choice": "B"})
        assert response.status_code == 400 and "version: " in response.content.decode()
        assert Vote.objects.get().version == 1
