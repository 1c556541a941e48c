"""Staff review live prompts and turn the kept ones into a custom prompt set, once each."""

from __future__ import annotations

import pytest

from arena.models import Contender, Prompt
from live.models import LiveBattle

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def battles(db):
    a, b = Contender.objects.create(name="a"), Contender.objects.create(name="b")
    for text in (
        "Why is the sky blue?",
        "why is  the SKY blue?",
        "Write a haiku <b>now</b>",
        "Tell me a joke",
    ):
        LiveBattle.objects.create(
            address="x",
            contender_a=a,
            contender_b=b,
            a_shown_first=True,
            turns=1,
            status="abandoned",
            conversation=[{"prompt": text, "a": "", "b": ""}],
        )
    LiveBattle.objects.create(address="x", contender_a=a, contender_b=b, a_shown_first=True)  # no turn yet


def test_staff_keep_prompts_and_make_a_deduplicated_set(battles, staff_client):
    from django.test import Client

    page = staff_client.get("/staff/live-prompts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('value="keep"') == 3  # the two sky prompts are one
    assert "&lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html
    for text in ("Why is the sky blue?", "Write a haiku <b>now</b>"):
        assert staff_client.post("/staff/live-prompts/", {"action": "keep", "text": text}).status_code == 302
    staff_client.post("/staff/live-prompts/", {"action": "drop", "text": "Tell me a joke"})
    response = staff_client.post(
        "/staff/live-prompts/", {"action": "make_set", "slug": "live-set", "name": "Live"}
    )
    assert "2 prompt(s) added, 0 already in it" in response.content.decode()
    again = staff_client.post(
        "/staff/live-prompts/", {"action": "make_set", "slug": "live-set", "name": "Live"}
    )
    assert "0 prompt(s) added, 2 already in it" in again.content.decode()
    prompts = Prompt.objects.filter(prompt_set__slug="live-set").order_by("position")
    assert [p.turns for p in prompts] == [["Why is the sky blue?"], ["Write a haiku <b>now</b>"]]
    assert "<b>" not in str(prompts[1].rendered)  # rendered and sanitised like every prompt
    bad = staff_client.post("/staff/live-prompts/", {"action": "make_set", "slug": "bad slug!"})
    assert bad.status_code == 400 and "slug:" in bad.content.decode()
    assert staff_client.post("/staff/live-prompts/", {"action": "nope"}).status_code == 400
    assert Client().get("/staff/live-prompts/").status_code == 302  # strangers go to log in
