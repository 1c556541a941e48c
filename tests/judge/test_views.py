"""Judge run pages, as staff (start, watch, cancel, retry), a rater (refused) and a stranger (sent to log in)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from judge.models import JudgeRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_user("olga", is_staff=True))
    return client


class TestStaff:
    def test_starts_a_run_from_the_page_and_watches_it(self, staff_client, judge, battle_set, llm,
                                                      django_capture_on_commit_callbacks):
        form = {"judge": judge.pk, "prompt_set": battle_set.slug, "mode": "pairwise", "inconsistent": "tie"}
        estimate = staff_client.post("/judge/runs/estimate/", form)
        assert "<strong>12</strong> judgments" in estimate.content.decode()
        assert "estimated cost" in estimate.content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post("/judge/runs/new/", form)
        run = JudgeRun.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/judge/runs/{run.pk}/"
        page = staff_client.get(response["Location"]).content.decode()
        assert f'ws-connect="/ws/judge/runs/{run.pk}/"' in page
        assert '<strong data-count="done">12</strong>' in page and 'data-status="done"' in page
        listing = staff_client.get("/judge/runs/").content.decode()
        assert f"/judge/runs/{run.pk}/" in listing and "fake-judge" in listing

    def test_sees_unparsed_output_and_retries_it(self, staff_client, judge, battle_set, llm, start_run,
                                                django_capture_on_commit_callbacks):
        llm.configure(script=["malformed"])
        run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)
        page = staff_client.get(f"/judge/runs/{run.pk}/").content.decode()
        assert '<strong data-count="unparsed">1</strong>' in page
        assert "I looked at both replies and have thoughts, but no verdict." in page
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(f"/judge/runs/{run.pk}/retry/")
        assert run.judgments.filter(status="unparsed").count() == 0

    def test_cancels_a_run(self, staff_client, judge, battle_set, django_capture_on_commit_callbacks):
        from judge.services import judge_run_create

        with django_capture_on_commit_callbacks(execute=False):
            run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise")
        response = staff_client.post(f"/judge/runs/{run.pk}/cancel/")
        assert response.status_code == 302
        run.refresh_from_db()
        assert run.status == "cancelled"
        assert "Resume pending" in staff_client.get(f"/judge/runs/{run.pk}/").content.decode()

    def test_a_start_with_nothing_to_judge_shows_why(self, staff_client, judge, db):
        from arena.models import PromptSet

        PromptSet.objects.create(slug="empty", name="empty")
        response = staff_client.post("/judge/runs/new/", {"judge": judge.pk, "prompt_set": "empty", "mode": "pairwise",
                                                          "inconsistent": "tie"})
        assert response.status_code == 200 and "Nothing to judge" in response.content.decode()


class TestRater:
    def test_is_refused(self, client, db):
        client.force_login(get_user_model().objects.create_user("rita"))
        assert client.get("/judge/runs/").status_code == 403
        assert client.post("/judge/runs/new/", {}).status_code == 403


class TestStranger:
    def test_is_sent_to_log_in(self, client, db):
        response = client.get("/judge/runs/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
