"""The evaluate command from the browser: the form checks what the command checks, with its
messages, next to the field at fault; shows the estimate; starts one evaluation per form, which
runs (inline here) against the test LLM server as both contender and judge; its page shows the
result and the reports."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from arena.models import Answer, Contender
from judge.models import Evaluation, JudgeRun

pytestmark = pytest.mark.django_db

URL = "/judge/evaluate/"


@pytest.fixture
def custom_set(tmp_path, llm):
    llm.configure(models=["fake-judge", "new-quality-7", "base-quality-4"])
    rows = [{"prompt_id": f"q{i}", "category": "writing", "turns": [f"Question {i}?"]} for i in range(4)]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    call_command("import_prompt_set", str(path), "--slug", "mine", "--format", "jsonl", stdout=io.StringIO())
    return "mine"


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_user("olga", is_staff=True))
    return client


def form(the_judge, llm, **changes):
    data = {
        "contender": "new",
        "base_url": llm.base_url,
        "model": "new-quality-7",
        "api_key_env": "",
        "prompt_set": "mine",
        "judge": the_judge.name,
        "mode": "single",
        "baseline": "",
        "against": "",
        "turn": "all",
        "max_cost": "",
        "token": str(uuid.uuid4()),
        "action": "estimate",
    }
    data.update(changes)
    return data


def command_error(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("evaluate", *args, "--no-progress", stdout=io.StringIO())
    return str(exc.value)


def test_anonymous_and_raters_are_refused(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(URL, {}).status_code == 302
    assert client.get("/judge/evaluations/1/").status_code == 302
    client.force_login(get_user_model().objects.create_user("rita"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "start"}).status_code == 403
    assert client.get("/judge/evaluations/1/").status_code == 403
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "command"),
    [
        ({"prompt_set": "nope"}, "prompt_set", ["--prompt-set", "nope"]),
        ({"judge": "nobody"}, "judge", ["--judge", "nobody"]),
        ({"max_cost": "lots"}, "max_cost", ["--max-cost", "lots"]),
        ({"mode": "pairwise"}, "baseline", ["--mode", "pairwise"]),
        ({"baseline": "new"}, "mode", ["--baseline", "new"]),
        (
            {"mode": "pairwise", "baseline": "ghost"},
            "baseline",
            ["--mode", "pairwise", "--baseline", "ghost"],
        ),
        ({"base_url": "", "model": ""}, "base_url", ["--base-url", "", "--model", ""]),
        ({"api_key_env": "sk-abc123"}, "api_key_env", ["--api-key-env", "sk-abc123"]),
        ({"max_cost": "0"}, "max_cost", ["--max-cost", "0"]),
    ],
)
def test_a_bad_option_is_named_with_the_commands_message(
    staff, judge, llm, custom_set, changes, field, command
):
    data = form(judge, llm, **changes)
    response = staff.post(URL, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    args = {
        "--contender": "new",
        "--prompt-set": "mine",
        "--judge": judge.name,
        "--base-url": llm.base_url,
        "--model": "new-quality-7",
    }
    args.update(dict(zip(command[::2], command[1::2], strict=True)))
    expected = command_error(*[x for pair in args.items() for x in pair])
    assert errors[field] == [expected]
    assert expected in response.content.decode().replace("&#x27;", "'")
    assert not Evaluation.objects.exists() and not Contender.objects.filter(name="new").exists()
    assert llm.stats()["total"] == 0


def test_the_estimate_comes_first_and_sends_nothing(staff, judge, llm, custom_set):
    response = staff.post(URL, form(judge, llm))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Estimate (dry run: nothing was sent)" in page
    assert "Generate: 4 answers (4 requests" in page and "Judge: 4 judgments" in page
    assert 'value="start"' in page
    assert staff.get(URL).content.decode().count('value="start"') == 0  # no start before an estimate
    assert not Evaluation.objects.exists() and llm.stats()["total"] == 0


def test_start_runs_it_once_shows_the_result_and_a_second_submit_starts_nothing(
    staff, judge, llm, custom_set, django_capture_on_commit_callbacks
):
    data = form(judge, llm, action="start")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(URL, data)
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/judge/evaluations/{evaluation.pk}/"
    assert evaluation.status == "done", evaluation.error
    assert (evaluation.answers_done, evaluation.judgments_done) == (4, 4)
    assert Answer.objects.filter(contender__name="new").count() == 4
    assert llm.stats()["total"] == 8
    assert "new" in evaluation.report and "scores report" in evaluation.report
    assert list(evaluation.runs.values_list("status", flat=True)) == ["done"]

    # The same form again (a double click, a reload of the POST): the same evaluation, nothing sent.
    with django_capture_on_commit_callbacks(execute=True):
        again = staff.post(URL, data)
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Evaluation.objects.count() == 1 and JudgeRun.objects.count() == 1
    assert llm.stats()["total"] == 8

    page = staff.get(response["Location"]).content.decode()
    assert "already started with these options" in page
    assert "Done" in page and 'id="report"' in page
    assert "/scores/?source=judge%3Afake-judge&amp;prompt_set=mine" in page
    assert f"/judge/runs/{evaluation.runs.get().pk}/" in page


def test_same_options_while_one_is_running_start_nothing(
    staff, judge, llm, custom_set, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run yet
        first = staff.post(URL, form(judge, llm, action="start"))
    with django_capture_on_commit_callbacks(execute=False):
        second = staff.post(URL, form(judge, llm, action="start"))  # a new form, the same options
    assert first["Location"] == second["Location"]
    assert Evaluation.objects.count() == 1


def test_a_failure_of_the_endpoint_is_shown_on_the_page(
    staff, judge, llm, custom_set, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(URL, form(judge, llm, model="not-served", action="start"))
    evaluation = Evaluation.objects.get()
    assert evaluation.status == "failed"
    assert "does not serve model 'not-served'" in evaluation.error
    page = staff.get(response["Location"]).content.decode()
    assert "Failed" in page and "does not serve model" in page and 'id="report-links"' not in page
