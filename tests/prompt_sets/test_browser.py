"""Staff upload a prompt set in Chromium (mouse and keyboard), see a bad line named, then read and
search the set; at 1440 and 390 px, with no serious accessibility problem (axe-core)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from arena.models import Prompt
from tests.voting.browser import axe_problems, chromium, log_in, sideways_overflow, sized_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "upload-the-prompts-7"


def test_staff_upload_a_set_and_anyone_searches_it(sized_page, live_server, tmp_path):  # noqa: F811
    page = sized_page
    get_user_model().objects.create_user("stella", password=PASSWORD, is_staff=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"prompt_id": "a", "prompt": "Fine."}) + "\n" + json.dumps({"prompt_id": "b"}) + "\n"
    )
    good = tmp_path / "mine.jsonl"
    good.write_text(
        "".join(
            json.dumps(
                {
                    "prompt_id": f"q{i}",
                    "category": "math" if i < 3 else "writing",
                    "turns": [f"Prompt {i} about {'rivers' if i == 4 else 'numbers'}?"],
                }
            )
            + "\n"
            for i in range(8)
        )
    )
    log_in(page, live_server, "stella", PASSWORD, next_url="/prompt-sets/")

    page.set_input_files("#upload-file", str(bad))
    page.select_option("#upload-format", "jsonl")
    page.fill("#upload-slug", "mine")
    page.click("button:has-text('Import')")
    alert = page.locator("[data-error=upload]")
    expect(alert).to_contain_text("bad.jsonl, line 2: field 'turns'")
    expect(alert).to_contain_text("nothing was imported")
    assert not Prompt.objects.exists()
    assert page.input_value("#upload-slug") == "mine"  # what was typed is kept
    assert axe_problems(page) == []

    page.set_input_files("#upload-file", str(good))
    page.fill("#upload-name", "My prompts")
    page.focus("#upload-name")
    page.keyboard.press("Enter")  # the keyboard submits the form too
    page.wait_for_url(f"{live_server.url}/prompt-sets/mine/?imported=1")
    expect(page.locator("[role=status]")).to_contain_text("Imported: version 1")
    expect(page.locator("tr[data-prompt]")).to_have_count(8)

    page.context.clear_cookies()  # a visitor reads it too
    page.goto(f"{live_server.url}/prompt-sets/")
    expect(page.locator("tr[data-set=mine] [data-col=prompts]")).to_have_text("8")
    page.click("tr[data-set=mine] a")
    page.fill("#q", "rivers")
    page.keyboard.press("Enter")
    expect(page.locator("tr[data-prompt]")).to_have_count(1)
    expect(page.locator("tr[data-prompt=q4]")).to_be_visible()
    assert sideways_overflow(page) == 0
    assert axe_problems(page) == []
