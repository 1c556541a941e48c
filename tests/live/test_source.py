"""Live votes as battles of source ``live`` (and ``human`` when folded in): the columnar reader,
the counts, the leaderboard command and API, bias and agreement, export_battles."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from django.core.management import call_command

from arena.models import Contender
from live.models import LiveBattle
from reports.selectors.battle_columns import battle_arrays, battle_counts
from reports.selectors.battle_records import battles_list
from reports.selectors.battles import BattleFilter, parse_source
from reports.selectors.leaderboards import sources_available, verdicts_count

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def live_votes(db):
    a, b, c = (Contender.objects.create(name=n) for n in ("ant", "bee", "cat"))
    rows = [
        (a, b, True, "model_a", False),
        (a, b, False, "model_a", False),
        (b, c, True, "model_b", False),
        (a, c, True, "tie", False),
        (c, a, False, "both_bad", False),
        (a, b, True, "model_b", True),
    ]  # void: named a model
    for left, right, first, winner, void in rows:
        LiveBattle.objects.create(
            address="1.2.3.4",
            contender_a=left,
            contender_b=right,
            a_shown_first=first,
            status="voted",
            winner=winner,
            reveals_identity=void,
            turns=2,
            conversation=[{"prompt": "p", "a": "x", "b": "y"}] * 2,
        )
    # Not votes: never battles.
    LiveBattle.objects.create(
        address="x", contender_a=a, contender_b=b, a_shown_first=True, status="abandoned"
    )
    LiveBattle.objects.create(address="x", contender_a=a, contender_b=b, a_shown_first=True, status="error")
    LiveBattle.objects.create(
        address="x", contender_a=a, contender_b=b, a_shown_first=True, status="answered"
    )
    return a, b, c


def test_live_is_a_source_of_its_own_with_only_counted_votes(live_votes):
    assert parse_source("live") == ("live", None)
    battles = battles_list(source="live")
    assert [(x.model_a, x.model_b, x.winner) for x in battles] == [
        ("ant", "bee", "model_a"),
        ("ant", "bee", "model_a"),
        ("bee", "cat", "model_b"),
        ("ant", "cat", "tie"),
        ("cat", "ant", "both_bad"),
    ]
    assert {x.source for x in battles} == {"live"}
    assert [x.turn for x in battles] == [2] * 5
    assert battles_list(source="human") == []
    assert len(battles_list(source="all")) == 5
    counts = battle_counts(BattleFilter("live"))
    assert counts.total == 5
    arrays = battle_arrays(BattleFilter("live"), labels=True).arrays
    assert arrays.first_shown_a is not None and arrays.first_shown_a.tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert [x.first_shown for x in battles] == ["model_a", "model_b", "model_a", "model_a", "model_b"]
    assert verdicts_count(source="live") == 5 and verdicts_count(source="live", prompt_set="mt_bench") == 0
    assert "live" in sources_available()
    # A live prompt belongs to no prompt set: filtering by one reads none.
    assert battles_list(source="live", prompt_set="vicuna80") == []


def test_folded_into_human_when_the_setting_says_so(live_votes, settings):
    settings.ARENA_LIVE_AS_HUMAN = True
    human = battles_list(source="human")
    assert len(human) == 5 and {x.source for x in human} == {"human"}
    assert len(battles_list(source="all")) == 5  # read once, not twice
    assert len(battles_list(source="live")) == 5
    assert battle_counts(BattleFilter("human")).total == 5
    assert np.array_equal(
        battle_counts(BattleFilter("human")).counts, battle_counts(BattleFilter("live")).counts
    )


def test_leaderboard_bias_agreement_and_export_read_live(live_votes, client, admin_client, tmp_path):
    out = io.StringIO()
    call_command("leaderboard", "--source", "live", "--bootstrap", "10", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert {r["model"] for r in rows} == {"ant", "bee", "cat"}
    response = client.get("/api/leaderboard/", {"source": "live"})
    assert response.status_code == 200, response.content
    assert {r["model"] for r in response.json()["rows"]} == {"ant", "bee", "cat"}
    assert client.get("/api/sources/").json()["sources"].count("live") == 1
    for url in ("/bias/", "/api/bias/"):
        response = client.get(url, {"source": "live"})
        assert response.status_code == 200, (url, response.content[:300])
    # A named pair is outside the canonical set: anonymous visitors may not start it, staff may.
    assert client.get("/agreement/", {"a": "live", "b": "all"}).status_code == 403
    response = admin_client.get("/agreement/", {"a": "live", "b": "all"})
    assert response.status_code == 200, response.content[:300]
    shown = " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())
    assert "live (5 verdicts) against all (5 verdicts)" in shown
    assert client.get("/api/leaderboard/", {"source": "lives"}).status_code == 400
    exported = tmp_path / "live.json"
    call_command("export_battles", "--format", "fastchat", "--source", "live", "-o", str(exported))
    records = json.loads(exported.read_text())
    assert len(records) == 5 and records[0]["model_a"] == "ant" and records[0]["winner"] == "model_a"
