"""FastChat single judgments through the import pipeline: linked to MT-Bench's questions, -1 kept
as unparsed, all or nothing with the line and field named, and the scores report (API and
command) equal to show_result.py's table on the imported file."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arena.models import ImportedScore
from tests.ratings.test_evaluation_maths import FIXTURE, PUBLIC_RUN, show_result_single

pytestmark = pytest.mark.django_db


def _table(report: dict) -> dict[str, list[tuple[str, str]]]:
    out = {}
    for name, pick in (
        ("turn 1", lambda r: r["turns"].get("1")),
        ("turn 2", lambda r: r["turns"].get("2")),
        ("average", lambda r: r["overall"]),
    ):
        means = [
            (r["model"], pick(r)["mean"]) for r in report["rows"] if pick(r) and pick(r)["mean"] is not None
        ]
        out[name] = [(m, f"{v:.6f}") for m, v in sorted(means, key=lambda kv: -kv[1])]
    return out


@pytest.mark.parametrize("path", [FIXTURE, PUBLIC_RUN], ids=["fixture", "public-run"])
def test_the_imported_file_reproduces_show_result(staff_client, bundled_prompt_sets, path):
    client = staff_client  # a bootstrap count of its own: staff may have it computed
    out = io.StringIO()
    call_command(
        "import_scores", str(path), "--source", "gpt4-single", "--prompt-set", "mt_bench", stdout=out
    )
    assert "scores written" in out.getvalue()
    assert ImportedScore.objects.filter(prompt__isnull=True).count() == 0  # every row linked to its question
    report = client.get(
        "/api/scores/", {"source": "import:gpt4-single", "prompt_set": "mt_bench", "bootstrap": 50}
    ).json()
    assert _table(report) == show_result_single(path)
    assert set(report["categories"]) <= {
        "writing",
        "roleplay",
        "reasoning",
        "math",
        "coding",
        "extraction",
        "stem",
        "humanities",
    }
    command = io.StringIO()
    call_command(
        "scores_report",
        "--source",
        "import:gpt4-single",
        "--bootstrap",
        "0",
        "--format",
        "json",
        stdout=command,
    )
    assert _table(json.loads(command.getvalue())) == show_result_single(path)


def test_unparsed_scores_are_kept_and_a_second_import_writes_nothing(bundled_prompt_sets):
    call_command(
        "import_scores",
        str(FIXTURE),
        "--source",
        "gpt4-single",
        "--prompt-set",
        "mt_bench",
        stdout=io.StringIO(),
    )
    assert (
        ImportedScore.objects.count() == 27 and ImportedScore.objects.filter(score__isnull=True).count() == 2
    )
    again = io.StringIO()
    call_command(
        "import_scores", str(FIXTURE), "--source", "gpt4-single", "--prompt-set", "mt_bench", stdout=again
    )
    assert "already imported" in again.getvalue() and ImportedScore.objects.count() == 27


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (
            '{"question_id": 81, "model": "m", "judge": ["gpt-4", "single-v1"], "score": 11, "turn": 1}',
            "score",
        ),
        (
            '{"question_id": 9999, "model": "m", "judge": ["gpt-4", "single-v1"], "score": 5, "turn": 1}',
            "question_id",
        ),
        ('{"question_id": 81, "model": "m", "judge": 7, "score": 5, "turn": 1}', "judge"),
    ],
)
def test_a_bad_line_names_itself_and_nothing_is_written(bundled_prompt_sets, tmp_path, line, field):
    good = '{"question_id": 82, "model": "m", "judge": ["gpt-4", "single-v1"], "score": 5, "turn": 1}'
    path = tmp_path / "gpt-4_single.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(CommandError, match=rf"line 2: field '{field}'.*nothing was imported"):
        call_command(
            "import_scores", str(path), "--source", "bad", "--prompt-set", "mt_bench", stdout=io.StringIO()
        )
    assert ImportedScore.objects.count() == 0
