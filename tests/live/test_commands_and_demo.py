"""Adding a live contender from the command line; the demo's stand-ins and the battle page's label."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from arena.models import Contender
from live.models import LiveContender

pytestmark = [pytest.mark.django_db]


def test_live_contender_add_checks_the_key_variable_and_updates_in_place():
    out = io.StringIO()
    call_command(
        "live_contender_add",
        "my-model",
        "--base-url",
        "http://127.0.0.1:8001/v1",
        "--model",
        "m-1",
        "--api-key-env",
        "ARENA_KEY_MINE",
        "--weight",
        "2",
        "--price-output",
        "3",
        stdout=out,
    )
    assert "in live battles (weight 2)" in out.getvalue()
    live = LiveContender.objects.get(contender__name="my-model")
    assert (live.weight, live.price_output, live.contender.api_key_env) == (2.0, 3.0, "ARENA_KEY_MINE")
    call_command("live_contender_add", "my-model", "--model", "m-2", "--disable", stdout=io.StringIO())
    live.refresh_from_db()
    assert not live.enabled and live.contender.api_model == "m-2" and Contender.objects.count() == 1
    with pytest.raises(CommandError, match="api_key_env") as caught:
        call_command("live_contender_add", "leak", "--model", "x", "--api-key-env", "sk-abcdef1234567890abcd")
    assert "abcdef1234567890" not in str(caught.value) and not Contender.objects.filter(name="leak").exists()
    with pytest.raises(CommandError, match="weight"):
        call_command("live_contender_add", "neg", "--model", "x", "--weight", "-1")


def test_the_demo_stand_ins_are_labelled_on_the_battle_page(staff_client):
    out = io.StringIO()
    call_command("load_demo", "--quiet", "--stand-in-url", "http://127.0.0.1:8001/v1", stdout=out)
    assert "3 stand-in contenders" in out.getvalue() and "not real models" in out.getvalue()
    assert LiveContender.objects.filter(stand_in=True).count() == 3
    page = staff_client.get("/battle/").content.decode()
    assert 'id="stand-in-note"' in page and "not by real models" in page
    with pytest.raises(CommandError, match="--stand-in-url"):
        call_command("load_demo", "--quiet", "--stand-in-url", "ftp://x")
    LiveContender.objects.update(stand_in=False)
    assert 'id="stand-in-note"' not in staff_client.get("/battle/").content.decode()
