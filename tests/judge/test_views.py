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
    def test_starts_a_run_from_the_page_and_watches_it(
        self, staff_client, judge, battle_set, llm, django_capture_on_commit_callbacks
    ):
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

    def test_sees_unparsed_output_and_retries_it(
        self, staff_client, judge, battle_set, llm, start_run, django_capture_on_commit_callbacks
    ):
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
        response = staff_client.post(
            "/judge/runs/new/",
            {"judge": judge.pk, "prompt_set": "empty", "mode": "pairwise", "inconsistent": "tie"},
        )
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


class TestRunPage:
    """What the run page says and offers follows the run's state (the same fragment the workers
    send over the socket)."""

    def test_a_run_where_every_request_failed_says_failed_and_lists_every_failure(
        self, staff_client, judge, battle_set, llm, start_run
    ):
        llm.configure(rates={"400": 1.0})
        run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)

        assert run.status == "failed"
        page = staff_client.get(f"/judge/runs/{run.pk}/").content.decode()
        assert "Failed · none of the 6 judgments succeeded (6 failed)" in page
        assert "Done" not in page and "done ·" not in page
        assert page.count("<tr data-judgment=") == 6
        assert 'data-action="retry-failed"' in page
        assert 'data-action="cancel"' not in page and 'data-action="resume"' not in page
        problems = staff_client.get(f"/judge/runs/{run.pk}/problems/").content.decode()
        assert problems.count("<tr data-judgment=") == 6 and 'data-problems="6"' in problems

    def test_the_buttons_follow_the_state(
        self, staff_client, judge, battle_set, django_capture_on_commit_callbacks
    ):
        from judge.selectors import judge_run_progress_get
        from judge.services import judge_run_create
        from judge.services.progress import progress_html

        with django_capture_on_commit_callbacks(execute=False):
            run = judge_run_create(judge=judge, prompt_set=battle_set, mode="pairwise")
        running = progress_html(judge_run_progress_get(run_id=run.pk))  # as a worker sends it
        assert "Running · 0 of 12 answered (0 %)" in running
        assert 'data-action="cancel"' in running and 'data-action="resume"' not in running
        assert 'hx-swap-oob="true"' in running and 'hx-post="/judge/runs/' in running

        response = staff_client.post(f"/judge/runs/{run.pk}/cancel/", HTTP_HX_REQUEST="true")
        cancelled = response.content.decode()
        assert response.status_code == 200 and cancelled.lstrip().startswith('<section id="progress"')
        assert "Cancelled · 0 of 12 judged, 12 not sent" in cancelled
        assert 'data-action="cancel"' not in cancelled and "Resume pending (12 left)" in cancelled
        assert f"Run {run.pk} cancelled" in cancelled  # the notice, out of band

    def test_a_finished_run_offers_no_resume_and_explains_resent_requests(
        self, staff_client, judge, battle_set, llm, start_run
    ):
        llm.configure(script=["503"])
        run = start_run(judge=judge, prompt_set=battle_set, mode="pairwise", limit=1)

        page = staff_client.get(f"/judge/runs/{run.pk}/").content.decode()
        assert "Done · all 6 judged" in page
        assert "Resume pending" not in page and "data-action" not in page
        assert '<strong data-count="resent">1</strong> sent more than once' in page
        assert "Each send may be billed; one verdict is kept." in page


class TestNewRunPage:
    def test_without_a_judge_says_how_to_add_one(self, staff_client, battle_set):
        page = staff_client.get("/judge/runs/new/").content.decode()

        assert "There is no judge yet." in page and "manage.py judge_add" in page
        assert "/admin/judge/judge/add/" in page
        assert "This field is required" not in page and "<select" not in page

    def test_a_large_run_is_started_only_when_confirmed(
        self, staff_client, judge, battle_set, settings, django_capture_on_commit_callbacks
    ):
        settings.JUDGE_CONFIRM_JUDGMENTS = 10
        form = {"judge": judge.pk, "prompt_set": battle_set.slug, "mode": "pairwise", "inconsistent": "tie"}
        estimate = staff_client.post("/judge/runs/estimate/", form).content.decode()
        assert 'name="confirm"' in estimate and "above the confirmation threshold (10 judgments" in estimate

        refused = staff_client.post("/judge/runs/new/", form)
        assert refused.status_code == 200 and not JudgeRun.objects.exists()
        assert "This run makes 12 judgments" in refused.content.decode()

        with django_capture_on_commit_callbacks(execute=False):
            started = staff_client.post("/judge/runs/new/", {**form, "confirm": "1"})
        assert started.status_code == 302 and JudgeRun.objects.count() == 1

    def test_a_small_run_needs_no_confirmation(
        self, staff_client, judge, battle_set, settings, django_capture_on_commit_callbacks
    ):
        settings.JUDGE_CONFIRM_JUDGMENTS = 12
        form = {"judge": judge.pk, "prompt_set": battle_set.slug, "mode": "pairwise", "inconsistent": "tie"}
        assert 'name="confirm"' not in staff_client.post("/judge/runs/estimate/", form).content.decode()
        with django_capture_on_commit_callbacks(execute=False):
            assert staff_client.post("/judge/runs/new/", form).status_code == 302

    def test_the_hhh_mode_reads_hhh(self, staff_client, judge, battle_set):
        page = staff_client.get("/judge/runs/new/").content.decode()
        assert '<option value="hhh">HHH</option>' in page and "Hhh" not in page
