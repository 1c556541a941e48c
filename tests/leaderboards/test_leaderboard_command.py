"""An analyst runs ``manage.py leaderboard`` and gets exactly what the rating package computes."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from arena.ratings import compute_leaderboard
from reports.selectors.battle_records import battles_list
from reports.selectors.leaderboards import ROW_FIELDS

pytestmark = pytest.mark.django_db


def board_settings(method: str, style_control: bool = False) -> dict:
    """What the leaderboard selector adds from the settings: the weak prior (plain Bradley-Terry)
    and the provisional threshold."""
    plain = method == "bt" and not style_control
    return {
        "prior_sd": (settings.ARENA_LEADERBOARD_PRIOR_SD or None) if plain else None,
        "min_battles": settings.ARENA_LEADERBOARD_MIN_BATTLES,
    }


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("leaderboard", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("method", ["bt", "elo"])
def test_json_rows_equal_the_rating_package_on_the_same_battles(voted_arena, method):
    rows = json.loads(
        run("--source", "human", "--method", method, "--bootstrap", "40", "--seed", "3", "--format", "json")
    )

    expected = compute_leaderboard(
        battles_list(source="human"), method=method, bootstrap_rounds=40, seed=3, **board_settings(method)
    )
    assert rows == [{f: r[f] for f in ROW_FIELDS} for r in expected.to_dict()["rows"]]
    assert rows[0]["model"] == "alpha"
    assert set(rows[0]) == set(ROW_FIELDS)


def test_elo_options_and_style_control_reach_the_rating_package(voted_arena):
    rows = json.loads(
        run(
            "--source",
            "all",
            "--method",
            "elo",
            "--k",
            "16",
            "--init",
            "1500",
            "--permutations",
            "5",
            "--bootstrap",
            "0",
            "--format",
            "json",
        )
    )
    expected = compute_leaderboard(
        battles_list(source="all"), method="elo", k=16, init=1500, permutations=5, bootstrap_rounds=0, seed=0
    )
    assert rows == [{f: r[f] for f in ROW_FIELDS} for r in expected.to_dict()["rows"]]

    styled = json.loads(run("--source", "human", "--style-control", "--bootstrap", "20", "--format", "json"))
    expected = compute_leaderboard(
        battles_list(source="human"), method="bt", style_control=True, bootstrap_rounds=20, seed=0
    )
    assert styled == [{f: r[f] for f in ROW_FIELDS} for r in expected.to_dict()["rows"]]


def test_filters_narrow_the_battles(voted_arena):
    everything = json.loads(run("--source", "human", "--bootstrap", "0", "--format", "json"))
    writing = json.loads(
        run("--source", "human", "--category", "writing", "--bootstrap", "0", "--format", "json")
    )
    imported = json.loads(
        run(
            "--source",
            "import:paper-gpt4",
            "--prompt-set",
            "demo-set",
            "--bootstrap",
            "0",
            "--format",
            "json",
        )
    )

    assert sum(r["battles"] for r in writing) * 2 == sum(r["battles"] for r in everything)
    assert sum(r["battles"] for r in imported) == 2 * 18  # 6 prompts x 3 pairs, two models per battle
    assert json.loads(run("--source", "human", "--turn", "2", "--format", "json")) == []


def test_csv_and_table_show_the_same_rows(voted_arena):
    as_json = json.loads(run("--source", "human", "--bootstrap", "20", "--format", "json"))
    as_csv = list(
        csv.DictReader(io.StringIO(run("--source", "human", "--bootstrap", "20", "--format", "csv")))
    )
    table = run("--source", "human", "--bootstrap", "20")

    assert [r["model"] for r in as_csv] == [r["model"] for r in as_json]
    assert [float(r["rating"]) for r in as_csv] == [r["rating"] for r in as_json]
    assert f"{as_json[0]['rating']:.1f}" in table and "alpha" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "judges:gpt"], "is not a source"),
        (["--source", "judge:nobody"], "No judge named"),
        (["--source", "import:nothing"], "No imported verdict source"),
        (["--prompt-set", "missing"], "No prompt set"),
        (["--method", "elo", "--style-control"], "Style control needs method=bt"),
        (["--bootstrap", "-1"], "out of range. Allowed: a whole number from 0 to"),
    ],
)
def test_bad_options_are_refused_with_a_reason(voted_arena, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args, "--format", "json")


def test_bias_and_agreement_commands_report_json(voted_arena):
    out = io.StringIO()
    call_command("bias_report", "--source", "human", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["battle_total"] == 3 * 6 * 3
    assert report["position"] is not None and report["length"] is not None
    assert {g["model"] for g in report["grades"]} == {"alpha", "beta", "gamma"}
    assert set(report["hhh"]) == {"helpful", "honest", "harmless"}

    out = io.StringIO()
    call_command("agreement", "--a", "human", "--b", "import:paper-gpt4", "--format", "json", stdout=out)
    agreement = json.loads(out.getvalue())
    assert agreement["battles_b"] == 18
    assert [t["turn"] for t in agreement["per_turn"]] == [1]
    assert agreement["overall"]["pairs"] == 18 * 3

    with pytest.raises(CommandError, match="--raters: Choosing raters needs one source"):
        call_command(
            "agreement", "--a", "human", "--b", "import:paper-gpt4", "--raters", "x", stdout=io.StringIO()
        )


def test_json_is_one_pretty_printed_document_for_every_command(voted_arena):
    text = run("--source", "human", "--bootstrap", "0", "--format", "json")
    rows = json.loads(text)
    # Not one token per line: exactly the pretty-printed document and a final newline.
    assert text == json.dumps(rows, indent=2) + "\n"
    for command, args in (
        ("bias_report", ["--source", "human"]),
        ("agreement", ["--a", "human", "--b", "import:paper-gpt4"]),
    ):
        out = io.StringIO()
        call_command(command, *args, "--format", "json", stdout=out)
        assert out.getvalue() == json.dumps(json.loads(out.getvalue()), indent=2) + "\n"


def test_the_command_averages_elo_over_more_orders_than_a_web_request(voted_arena):
    assert settings.ARENA_MAX_BOOTSTRAP_ROUNDS < 10_000
    rows = json.loads(
        run(
            "--source",
            "human",
            "--method",
            "elo",
            "--permutations",
            "10000",
            "--bootstrap",
            "0",
            "--format",
            "json",
        )
    )
    expected = compute_leaderboard(
        battles_list(source="human"),
        method="elo",
        permutations=10000,
        bootstrap_rounds=0,
        **board_settings("elo"),
    )
    assert rows == [{f: r[f] for f in ROW_FIELDS} for r in expected.to_dict()["rows"]]
    with pytest.raises(
        CommandError,
        match=re.escape("--permutations: '100001' is out of range. Allowed: a whole number from 0 to 100000"),
    ):
        run("--method", "elo", "--permutations", "100001")


def test_without_a_source_the_command_reads_human_votes(voted_arena):
    default = json.loads(run("--bootstrap", "0", "--format", "json"))
    assert default == json.loads(run("--source", "human", "--bootstrap", "0", "--format", "json"))
    assert default != json.loads(run("--source", "all", "--bootstrap", "0", "--format", "json"))
