"""The rating page as each persona meets it: rater, stranger, staff."""

import re

import pytest
from django.test import Client

from arena.markdown import render_markdown
from arena.middleware import CONTENT_SECURITY_POLICY
from arena.models import Answer, Assignment, Contender, Vote
from arena.services.comparisons import comparisons_create
from tests import factories

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
SECRET_NAMES = ("zephyr-secret-7b", "quokka-hidden-13b")


def assert_no_model_name(html: str) -> None:
    for name in [*SECRET_NAMES, *Contender.objects.values_list("name", flat=True)]:
        assert name not in html


def leased(rater) -> Assignment:
    return Assignment.objects.get(rater=rater, status="leased")


class TestStranger:
    def test_is_sent_to_log_in(self, client):
        for url in ("/rate/", "/rate/guidelines/", "/rate/mine/"):
            response = client.get(url)
            if url == "/rate/guidelines/":
                assert response.status_code == 200  # the guidelines are public
            else:
                assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_cannot_vote(self, client):
        response = client.post("/rate/assignments/1/vote/", {"choice": "A"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_cannot_see_the_staff_page(self, client, rater_client):
        assert Client().get("/staff/raters/")["Location"] == "/accounts/login/?next=/staff/raters/"
        assert rater_client.get("/staff/raters/").status_code == 403


class TestRater:
    def test_sees_two_anonymous_answers_and_the_four_choices(self, rater_client, rater):
        factories.blind_comparisons(1)
        response = rater_client.get("/rate/")
        html = response.content.decode()
        assert response.status_code == 200
        for label in ("A is better", "B is better", "Tie", "Both are bad"):
            assert f">{label}</label>" in html
        assert "valid and satisfying" in html and "irrelevant or invalid" in html
        assert html.count('class="answer card"') == 2
        assert_no_model_name(html)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    def test_the_page_names_only_the_assignment_never_answers(self, rater_client, rater):
        from arena.models import Comparison

        p = factories.blind_prompt()
        # Distinctive ids, so finding one in the page cannot be a coincidence.
        a1 = Answer.objects.create(
            pk=97531001, prompt=p, contender=Contender.objects.create(name="m-left"), turns=["x"]
        )
        a2 = Answer.objects.create(
            pk=97531002, prompt=p, contender=Contender.objects.create(name="m-right"), turns=["y"]
        )
        Comparison.objects.create(pk=86420001, prompt=p, answer_a=a1, answer_b=a2)
        for url in ("/rate/", "/rate/rating-set/"):
            for extra in ({}, HTMX):
                html = rater_client.get(url, **extra).content.decode()
                assert f"/rate/assignments/{leased(rater).pk}/vote/" in html
                for secret in ("97531001", "97531002", "86420001", "m-left", "m-right", str(p.external_id)):
                    assert secret not in html

    def test_votes_and_sees_the_reveal_then_gets_the_next_through_htmx(self, rater_client, rater):
        factories.blind_comparisons(2)
        rater_client.get("/rate/")
        assignment = leased(rater)
        response = rater_client.post(
            f"/rate/assignments/{assignment.pk}/vote/",
            {"choice": "A", "grade_a": "B", "grade_b": "C", "helpful": "A"},
            **HTMX,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Your vote is in" in html and "A is better" in html
        assert "answer A: grade B · answer B: grade C" in html
        left, right = (assignment.comparison.answer_a, assignment.comparison.answer_b)
        if not assignment.a_shown_first:
            left, right = right, left
        assert f'A was <strong class="model-name">{left.contender.name}</strong>' in html
        assert "<html" not in html  # a partial, not a page
        nxt = rater_client.get("/rate/", **HTMX)
        assert nxt.status_code == 200 and "<html" not in nxt.content.decode()
        assert 'id="vote-form"' in nxt.content.decode()
        assert_no_model_name(nxt.content.decode())

    def test_a_second_submit_gets_the_same_reveal_and_one_vote_is_stored(self, rater_client, rater):
        factories.blind_comparisons(1)
        rater_client.get("/rate/")
        url = f"/rate/assignments/{leased(rater).pk}/vote/"
        first = rater_client.post(url, {"choice": "tie"}, **HTMX)
        second = rater_client.post(url, {"choice": "A"}, **HTMX)
        assert first.status_code == second.status_code == 200
        assert "already voted" not in first.content.decode()
        # The second says the comparison was voted already, what is stored and that its own
        # choice was not: a second tab never silently shows a vote the rater did not cast there.
        notice = second.content.decode().split('id="already-voted">')[1].split("</p>")[0]
        assert "already voted" in notice and "<strong>Tie</strong>" in notice
        assert "<strong>A is better</strong>, was not stored" in notice
        assert Vote.objects.get().winner == "tie"

    def test_cannot_vote_on_another_raters_comparison(self, rater_client, other_rater):
        factories.blind_comparisons(1)
        from arena.services.votes import assignment_lease

        theirs = assignment_lease(rater=other_rater)
        response = rater_client.post(f"/rate/assignments/{theirs.pk}/vote/", {"choice": "A"}, **HTMX)
        assert response.status_code == 403
        assert "not given to you" in response.content.decode()
        assert not Vote.objects.exists()

    def test_a_vote_without_a_choice_is_refused_with_a_message(self, rater_client, rater):
        factories.blind_comparisons(1)
        rater_client.get("/rate/")
        response = rater_client.post(f"/rate/assignments/{leased(rater).pk}/vote/", {}, **HTMX)
        assert response.status_code == 400 and "Choose one of" in response.content.decode()

    def test_is_slowed_down_past_the_rate_limit(self, rater_client, rater, settings):
        settings.ARENA_VOTE_RATE_LIMIT = 2
        settings.ARENA_TARGET_VOTES = 1
        factories.blind_comparisons(3)
        statuses = []
        for _ in range(3):
            rater_client.get("/rate/")
            statuses.append(
                rater_client.post(f"/rate/assignments/{leased(rater).pk}/vote/", {"choice": "A"}).status_code
            )
        assert statuses == [200, 200, 429]

    def test_skips_with_a_reason_and_gets_another(self, rater_client, rater):
        factories.blind_comparisons(2)
        rater_client.get("/rate/")
        skipped = leased(rater)
        response = rater_client.post(
            f"/rate/assignments/{skipped.pk}/skip/", {"reason": "not my language"}, **HTMX
        )
        assert response.status_code == 200 and 'id="vote-form"' in response.content.decode()
        assert leased(rater).pk != skipped.pk

    def test_sees_progress(self, rater_client, rater):
        factories.blind_comparisons(2)
        rater_client.get("/rate/")
        rater_client.post(f"/rate/assignments/{leased(rater).pk}/vote/", {"choice": "A"})
        html = rater_client.get("/rate/rating-set/").content.decode()
        assert '<strong data-progress="today">1</strong>' in html
        assert '<strong data-progress="in-set">1</strong> of 2' in html

    def test_sees_a_set_given_comparisons_after_the_last_visit_at_once(
        self, rater_client, rater, django_capture_on_commit_callbacks
    ):
        factories.blind_comparisons(1)
        html = rater_client.get("/rate/").content.decode()
        assert 'href="/rate/rating-set/"' in html and "/rate/later-set/" not in html
        later = factories.blind_prompt("later-set")
        factories.blind_answer(later, "m-one", "One.")
        factories.blind_answer(later, "m-two", "Two.")
        with django_capture_on_commit_callbacks(execute=True):
            comparisons_create(prompt_set="later-set")
        html = rater_client.get("/rate/later-set/").content.decode()
        assert 'href="/rate/later-set/"' in html
        assert '<strong data-progress="in-set">0</strong> of 1 comparisons' in html

    def test_is_told_when_nothing_is_left(self, rater_client):
        assert "Nothing to rate right now" in rater_client.get("/rate/").content.decode()

    def test_an_unknown_prompt_set_is_not_found(self, rater_client):
        assert rater_client.get("/rate/no-such-set/").status_code == 404

    def test_sees_only_their_own_votes(self, rater_client, rater, other_rater):
        factories.blind_comparisons(2, target_votes=2)
        from arena.services.votes import assignment_lease, vote_submit

        theirs = assignment_lease(rater=other_rater)
        vote_submit(rater=other_rater, assignment_id=theirs.pk, choice="B")
        html = rater_client.get("/rate/mine/").content.decode()
        assert "No votes yet" in html

    def test_every_post_needs_the_csrf_token(self, rater):
        factories.blind_comparisons(1)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(rater)
        page = strict.get("/rate/").content.decode()
        url = f"/rate/assignments/{leased(rater).pk}/vote/"
        assert strict.post(url, {"choice": "A"}).status_code == 403
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        assert strict.post(url, {"choice": "A"}, HTTP_X_CSRFTOKEN=token, **HTMX).status_code == 200


class TestMultiTurn:
    def test_an_mt_bench_comparison_shows_both_turns_for_both_sides(self, rater_client):
        p = factories.blind_prompt(
            "mt_bench", turns=("Write a haiku about tea.", "Now translate it to French.")
        )
        factories.blind_comparison(
            p,
            "m-one",
            "m-two",
            turn=2,
            texts={
                "m-one": ("Green leaves steep slowly", "Feuilles vertes"),
                "m-two": ("Kettle sings at dawn", "La bouilloire"),
            },
        )
        html = rater_client.get("/rate/").content.decode()
        for text in (
            "Write a haiku about tea.",
            "Now translate it to French.",
            "Green leaves steep slowly",
            "Feuilles vertes",
            "Kettle sings at dawn",
            "La bouilloire",
        ):
            assert text in html
        assert 'class="turn turn-judged" data-turn="2"' in html
        assert "judge the whole conversation" in html


class TestStoredHtml:
    """The page shows each text's stored HTML, and never HTML that no longer matches its text."""

    def test_the_page_shows_the_html_stored_with_the_answer(self, rater_client):
        comparison = factories.blind_comparisons(1)[0]
        for answer in (comparison.answer_a, comparison.answer_b):
            assert answer.rendered["html"] == [render_markdown(t) for t in answer.turns]  # filled on save
            # A marker in place of the stored HTML: the page can only show it by using what is stored.
            stored = {**answer.rendered, "html": [f"<p>stored html of answer {answer.pk}</p>"]}
            Answer.objects.filter(pk=answer.pk).update(rendered=stored)
        html = rater_client.get("/rate/").content.decode()
        assert f"stored html of answer {comparison.answer_a_id}" in html
        assert f"stored html of answer {comparison.answer_b_id}" in html

    def test_text_changed_behind_the_models_back_is_shown_as_it_is_now(self, rater_client):
        comparison = factories.blind_comparisons(1)[0]
        Answer.objects.filter(pk=comparison.answer_a_id).update(turns=["Rewritten in **the database**."])
        html = rater_client.get("/rate/").content.decode()
        assert "Rewritten in <strong>the database</strong>." in html

    def test_saving_new_text_stores_its_html(self):
        comparison = factories.blind_comparisons(1)[0]
        answer = comparison.answer_a
        answer.turns = ["Now *edited*."]
        answer.save(update_fields=["turns"])
        answer.refresh_from_db()
        assert answer.rendered["html"] == ["<p>Now <em>edited</em>.</p>\n"]
        prompt = comparison.prompt
        prompt.turns = ["A `new` question?"]
        prompt.save()
        prompt.refresh_from_db()
        assert prompt.rendered["html"] == ["<p>A <code>new</code> question?</p>\n"]


class TestStaff:
    def test_sees_per_rater_quality(self, client, staff, rater, other_rater, settings):
        from arena.services.votes import assignment_lease, vote_submit

        settings.ARENA_GOLD_RATE = 1.0
        factories.blind_comparisons(1, is_gold=True, gold_winner="model_a")
        for person in (rater, other_rater):
            a = assignment_lease(rater=person)
            a.a_shown_first = True
            a.save()
            vote_submit(rater=person, assignment_id=a.pk, choice="A" if person == rater else "B")
        client.force_login(staff)
        html = client.get("/staff/raters/").content.decode()
        rita = re.search(r'<tr data-rater="rita">.*?</tr>', html, re.S).group(0)
        otto = re.search(r'<tr data-rater="otto">.*?</tr>', html, re.S).group(0)
        assert 'data-col="gold-accuracy">100%' in rita and 'data-col="gold-accuracy">0%' in otto
        assert 'data-col="left">100%' in rita and 'data-col="left">0%' in otto
        assert 'data-col="agreement">0% (1)' in rita

    def test_flags_a_rater_failing_gold(self, staff, rater, settings):
        from arena.selectors.raters import rater_stats_list
        from arena.services.votes import assignment_lease, vote_submit

        settings.ARENA_GOLD_MIN_VOTES = 2
        settings.ARENA_GOLD_RATE = 1.0
        factories.blind_comparisons(2, is_gold=True, gold_winner="model_a")
        for _ in range(2):
            a = assignment_lease(rater=rater)
            vote_submit(rater=rater, assignment_id=a.pk, choice="both_bad")
        [stats] = rater_stats_list()
        assert stats.flagged and stats.gold_accuracy == 0


class TestOneClickPreference:
    def test_a_rater_switches_it_and_goes_back_where_they_were(self, rater_client, rater):
        from arena.models import RaterPreference

        response = rater_client.post("/rate/preferences/", {"one_click": "1", "next": "/rate/rating-set/"})
        assert response.status_code == 302 and response["Location"] == "/rate/rating-set/"
        assert RaterPreference.objects.get(rater=rater).one_click is True
        rater_client.post("/rate/preferences/", {"one_click": "0", "next": "https://evil.example/"})
        assert RaterPreference.objects.get(rater=rater).one_click is False

    def test_a_bad_value_names_what_is_allowed(self, rater_client, rater):
        from arena.models import RaterPreference

        response = rater_client.post("/rate/preferences/", {"one_click": "yes"})
        assert response.status_code == 400 and "one_click: 1" in response.content.decode()
        assert not RaterPreference.objects.exists()

    def test_a_study_that_turns_it_off_keeps_it_off(self, rater_client, rater, settings):
        settings.ARENA_ONE_CLICK_VOTING = "off"
        factories.blind_comparisons(1)
        rater_client.post("/rate/preferences/", {"one_click": "1"})
        html = rater_client.get("/rate/").content.decode()
        assert 'name="grade_a"' in html and "one-click-toggle" not in html
