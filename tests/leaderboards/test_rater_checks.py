"""Anomalous raters wired to the data (issue 18, point 7): the check of the human votes is
derived data, ``rater_quality=clean`` leaves the flagged raters out, ``/staff/raters/`` lists
them with their reasons and shows the leaderboard with and without them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from reports.selectors.rater_checks import rater_check_get, rater_check_refresh
from reports.services.snapshots import snapshots_mark_stale

from .conftest import human_votes


def _planted(arena):
    """An always-left rater and one who votes faster than anyone reads, on every pair of every prompt."""
    User = get_user_model()
    lefty, hasty = (
        User.objects.create_user("lefty", password="x"),
        User.objects.create_user("hasty", password="x"),
    )
    names = list(arena.contenders)
    for k, prompt in enumerate(arena.prompts):
        for i, m1 in enumerate(names):
            for m2 in names[i + 1 :]:
                arena.vote(
                    lefty, prompt, m2, m1, left=m2, seconds_spent=30.0
                )  # always the left one (the weaker)
                arena.vote(hasty, prompt, m1, m2, left=(m1, m2)[(k + i) % 2], seconds_spent=0.2)
    return lefty, hasty


@pytest.fixture
def planted(arena):
    for seed in (1, 2, 3):  # three rounds of honest votes by three raters
        for rater in arena.raters:
            rater.username = f"{rater.username.split('-')[0]}-{seed}"
        if seed > 1:
            arena.raters = [
                get_user_model().objects.create_user(f"honest{seed}-{i}", password="x") for i in range(3)
            ]
        human_votes(arena, seed=seed)
    return arena, *_planted(arena)


def test_the_check_flags_the_planted_raters_with_reasons_and_no_honest_one(planted, settings):
    _arena, _lefty, _hasty = planted
    result = rater_check_refresh()
    flagged = {row["username"]: row for row in result["flagged"]}
    assert set(flagged) == {"lefty", "hasty"}
    assert result["raters_checked"] == 11 and result["votes"] == 9 * 54 // 3 + 36
    assert flagged["lefty"]["unlikely"] and flagged["lefty"]["p_value"] < 0.001
    assert "picks the left answer far more or less often than chance" in flagged["lefty"]["reasons"]
    assert flagged["hasty"]["too_fast"] and flagged["hasty"]["fast_votes"] == 18
    assert "18 of 18 votes faster than reading speed" in flagged["hasty"]["reasons"]
    settings.ARENA_RATER_WORDS_PER_SECOND = 1000.0  # nobody is too fast for a floor this low
    assert "hasty" not in {row["username"] for row in rater_check_refresh()["flagged"]}


def test_clean_leaves_out_anomalous_raters_and_all_keeps_them(client, planted):
    _arena, _lefty, _hasty = planted
    clean = client.get("/api/leaderboard/", {"source": "human"}).json()
    everything = client.get("/api/leaderboard/", {"source": "human", "rater_quality": "all"}).json()
    assert everything["battle_total"] == clean["battle_total"] + 36  # both planted raters' 18 votes each
    assert rater_check_get() is not None  # the refresh stored it for the next computation


def test_new_human_votes_make_the_check_be_computed_again(planted):
    rater_check_refresh()
    snapshots_mark_stale(source="judge:nobody")
    assert rater_check_get() is not None
    snapshots_mark_stale(source="human")
    assert rater_check_get() is None


def test_staff_raters_lists_flagged_raters_and_both_leaderboards(client, planted):
    _arena, _lefty, _hasty = planted
    staff = get_user_model().objects.create_user("stella", password="x", is_staff=True)
    client.force_login(staff)
    html = client.get("/staff/raters/").content.decode()
    assert 'data-flagged="lefty"' in html and 'data-flagged="hasty"' in html
    assert 'data-flagged="rater0' not in html
    assert "2 of 11 raters flagged" in html
    assert "&lt; 0.001" in html and "18 of 18 votes faster than reading speed" in html
    assert 'id="board-table-clean"' in html and 'id="board-table-all"' in html


def test_staff_raters_with_no_votes_says_so(client, db):
    staff = get_user_model().objects.create_user("stella", password="x", is_staff=True)
    client.force_login(staff)
    response = client.get("/staff/raters/")
    assert response.status_code == 200 and "No votes yet." in response.content.decode()
    assert "board-table" not in response.content.decode()


def test_bias_and_agreement_accept_rater_quality_like_the_leaderboard(client, planted):
    import io
    import json

    from django.core.management import call_command

    clean = client.get("/api/bias/", {"source": "human"}).json()
    everything = client.get("/api/bias/", {"source": "human", "rater_quality": "all"}).json()
    assert everything["battle_total"] == clean["battle_total"] + 36
    assert (
        client.get("/api/bias/", {"source": "human", "rater_quality": "some"}).json()["field"]
        == "rater_quality"
    )
    client.force_login(get_user_model().objects.create_user("stella", password="x", is_staff=True))
    within = {
        q: client.get("/api/agreement/", {"a": "human", "b": "human", "rater_quality": q}).json()
        for q in ("clean", "all")
    }
    assert within["all"]["battles_a"] == within["clean"]["battles_a"] + 36
    out = io.StringIO()
    call_command(
        "agreement",
        "--a",
        "human",
        "--b",
        "human",
        "--rater-quality",
        "all",
        "--bootstrap",
        "0",
        "--format",
        "json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["battles_a"] == within["all"]["battles_a"]
    out = io.StringIO()
    call_command("bias_report", "--source", "human", "--rater-quality", "all", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["battle_total"] == everything["battle_total"]
