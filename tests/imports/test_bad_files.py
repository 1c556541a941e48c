"""Files a prober sent to the import commands: each is refused with the documented
"file, line N: field 'x': … — nothing was imported" and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from arena.models import ImportBatch
from tests.conftest import ROOT
from tests.judge.workers import database_url

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000


def _jsonl(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


ANSWERS = [
    (
        "nul in the model",
        _jsonl({"prompt_id": "81", "model": "m\x00x", "turns": ["a", "b"]}),
        1,
        "model",
        "NUL",
    ),
    ("nul in a turn", _jsonl({"prompt_id": "81", "model": "m", "turns": ["a\x00", "b"]}), 1, "turns", "NUL"),
    (
        "a 300-character model",
        _jsonl({"prompt_id": "81", "model": "m" * 300, "turns": ["a"]}),
        1,
        "model",
        "at most 200",
    ),
]
VERDICTS = [
    (
        "a turn over 32767",
        _jsonl(
            {"model_a": "a", "model_b": "b", "winner": "tie"},
            {"model_a": "a", "model_b": "b", "winner": "tie", "turn": 40000},
        ),
        2,
        "turn",
        "32767",
    ),
    (
        "deeply nested JSON",
        '{"model_a": "a", "model_b": "b", "winner": "tie", "metadata": ' + NESTED + "}\n",
        1,
        None,
        "nested more than 64",
    ),
    (
        "nul in the rater",
        _jsonl({"model_a": "a", "model_b": "b", "winner": "tie", "rater": "r\x00"}),
        1,
        "rater",
        "NUL",
    ),
    (
        "a 300-character question id",
        _jsonl({"model_a": "a", "model_b": "b", "winner": "tie", "question_id": "q" * 300}),
        1,
        "question_id",
        "at most 200",
    ),
]


def _refused(command: str, path, *args: str) -> str:
    with pytest.raises(CommandError) as refused:
        call_command(command, str(path), *args)
    message = str(refused.value)
    assert message.startswith(str(path)) and message.endswith("nothing was imported.")
    assert not ImportBatch.objects.exists()
    return message


@pytest.mark.parametrize(("case", "text", "line", "field", "says"), ANSWERS, ids=[c[0] for c in ANSWERS])
def test_bad_answer_files_are_refused_with_line_and_field(
    bundled_prompt_sets, tmp_path, case, text, line, field, says
):
    path = tmp_path / "answers.jsonl"
    path.write_text(text)
    message = _refused("import_answers", path, "--format", "jsonl", "--prompt-set", "mt_bench")
    assert f"line {line}: field '{field}'" in message and says in message


@pytest.mark.parametrize(("case", "text", "line", "field", "says"), VERDICTS, ids=[c[0] for c in VERDICTS])
def test_bad_verdict_files_are_refused_with_line_and_field(tmp_path, case, text, line, field, says):
    path = tmp_path / "verdicts.jsonl"
    path.write_text(text)
    message = _refused("import_battles", path, "--format", "jsonl", "--source", "probe")
    assert f"line {line}: " + (f"field '{field}'" if field else "") in message and says in message


def test_a_huge_csv_cell_is_refused_with_its_line(tmp_path):
    path = tmp_path / "verdicts.csv"
    path.write_text('model_a,model_b,winner\na,b,tie\n"' + "x" * 200_000 + '",b,tie\n')
    message = _refused("import_battles", path, "--format", "csv", "--source", "probe")
    assert "line 3: invalid CSV (a cell is longer than 131,072 characters)" in message


def test_a_nul_in_a_csv_cell_names_its_column(tmp_path):
    path = tmp_path / "verdicts.csv"
    path.write_text("model_a,model_b,winner\na,b\x00,tie\n")
    assert "line 2: field 'model_b': contains a NUL" in _refused(
        "import_battles", path, "--format", "csv", "--source", "probe"
    )


@pytest.mark.parametrize(("source", "says"), [("s" * 300, "at most 100"), ("has space", "not a source name")])
def test_a_bad_source_name_is_refused(tmp_path, source, says):
    path = tmp_path / "verdicts.jsonl"
    path.write_text(_jsonl({"model_a": "a", "model_b": "b", "winner": "tie"}))
    message = _refused("import_battles", path, "--format", "jsonl", "--source", source)
    assert "field '--source'" in message and says in message


def test_the_command_exits_non_zero_without_a_traceback(tmp_path):
    path = tmp_path / "verdicts.jsonl"
    path.write_text(VERDICTS[1][1])
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}  # the migrated test database
    result = subprocess.run(
        [sys.executable, "manage.py", "import_battles", str(path), "--format", "jsonl", "--source", "probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "nested more than 64" in result.stderr
