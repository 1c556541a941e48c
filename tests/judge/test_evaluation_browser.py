"""Staff evaluate a model from the browser, in Chromium against a real daphne (HTTP and the
evaluation's WebSocket) that evaluates in a thread of its own, as the demo does, with the tests'
OpenAI-compatible server as both the contender and the judge: the form (by mouse and keyboard),
its estimate, the start, the progress arriving over the socket, and the result with its reports.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from arena.models import Answer
from judge.models import Evaluation
from tests.judge.test_browser import log_in, staff, web  # noqa: F401 - fixtures
from tests.voting.browser import axe_problems, chromium, page, sideways_overflow, watch  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def custom_set(llm):
    llm.configure(models=["fake-judge", "new-quality-7"])
    rows = [{"prompt_id": f"q{i}", "category": "writing", "turns": [f"Question {i}?"]} for i in range(4)]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mine.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        call_command(
            "import_prompt_set", str(path), "--slug", "mine", "--format", "jsonl", stdout=io.StringIO()
        )
    return "mine"


def status(tab):  # type: ignore[no-untyped-def]
    return tab.locator("[data-field=status-text]")


def test_a_new_model_is_evaluated_from_the_form_and_watched_live(web, page, staff, judge, custom_set, llm):  # noqa: F811
    page.set_viewport_size({"width": 1440, "height": 900})
    seen = watch(page)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    llm.configure(latency=0.5)  # every request takes a while: the progress can be watched
    log_in(page, web, "/judge/runs/")

    page.get_by_role("link", name="Evaluate a model").click()  # the mouse, from the judge runs page
    page.wait_for_url(f"{web}/judge/evaluate/")
    assert page.locator("#start-evaluation").count() == 0  # no start before the estimate

    # The keyboard: type, Tab from field to field, Enter submits (the first button: the estimate).
    page.locator("#id_contender").focus()
    page.keyboard.type("new")
    page.keyboard.press("Tab")
    page.keyboard.type(llm.base_url)
    page.keyboard.press("Tab")
    page.keyboard.type("new-quality-7")
    page.select_option("#id_prompt_set", custom_set)
    page.select_option("#id_judge", judge.name)
    page.locator("#id_max_cost").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#estimate")
    estimate = page.locator("#estimate").inner_text()
    assert "Generate: 4 answers" in estimate and "Judge: 4 judgments" in estimate
    assert not axe_problems(page)
    assert sideways_overflow(page) == 0
    assert not Evaluation.objects.exists() and llm.stats()["total"] == 0

    page.locator("#start-evaluation").click()
    page.wait_for_url(f"{web}/judge/evaluations/*/")
    page.evaluate("window.__sameDocument = true")
    expect(status(page)).to_contain_text("judging", timeout=30_000)  # over the socket
    expect(page.locator("[data-count=answers]")).to_have_text("4 of 4")
    expect(status(page)).to_have_text("Done", timeout=60_000)
    expect(page.locator("[data-count=judgments]")).to_have_text("4 of 4")
    assert "new" in page.locator("#report").inner_text()
    links = page.locator("#report-links a")
    assert links.first.inner_text() == "Scores"
    assert "source=judge%3Afake-judge" in (links.first.get_attribute("href") or "")
    assert page.evaluate("window.__sameDocument") is True  # all of it arrived over the socket
    assert not axe_problems(page)
    assert Evaluation.objects.get().status == "done"
    assert Answer.objects.filter(contender__name="new").count() == 4
    assert not seen.foreign_requests and not seen.dialogs and not errors

    links.first.click()  # the report itself opens
    page.wait_for_url(f"{web}/scores/*")


def test_on_a_phone_a_bad_option_is_shown_next_to_its_field(web, page, staff, judge, custom_set, llm):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, web, "/judge/evaluate/")
    page.fill("#id_contender", "new")
    page.fill("#id_base_url", llm.base_url)
    page.fill("#id_model", "new-quality-7")
    page.select_option("#id_mode", "pairwise")  # without a baseline
    page.get_by_role("button", name="Estimate the cost").click()
    error = page.locator("#id_baseline ~ .errorlist, .errorlist:near(#id_baseline)").first
    expect(error).to_contain_text("--mode pairwise needs --baseline MODEL or --against a,b,c.")
    assert page.locator("#start-evaluation").count() == 0
    assert page.locator("#id_contender").input_value() == "new"  # what was typed is kept
    assert not axe_problems(page)
    assert sideways_overflow(page) == 0

    page.select_option("#id_mode", "single")
    page.get_by_role("button", name="Estimate the cost").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#start-evaluation")
    page.locator("#start-evaluation").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{web}/judge/evaluations/*/")
    expect(status(page)).to_have_text("Done", timeout=60_000)
    assert not axe_problems(page)
    assert page.locator("#progress").bounding_box()["width"] <= 390
    assert Evaluation.objects.count() == 1
