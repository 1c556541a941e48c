"""The custom prompt-set parsers (pure: no database)."""

import json
from pathlib import Path

import pytest

from arena.imports import parsers
from arena.imports.rows import ImportFormatError

DATA = Path(__file__).resolve().parents[2] / "arena" / "data" / "prompt_sets"


def parse(fmt, path, **opts):
    return list(parsers.parse("prompt_sets", fmt, path, **opts))


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) if isinstance(lines, list) else lines)
    return path


def test_fastchat_reads_mt_bench_like_the_bundled_parser():
    q, refs = DATA / "mt_bench" / "question.jsonl", DATA / "mt_bench" / "reference_answer_gpt-4.jsonl"
    custom = parse("fastchat", q, references=refs)
    bundled = list(parsers.parse("prompts", "mt_bench", q, references=refs))
    assert len(custom) == 80
    assert [(r.external_id, r.category, r.turns, r.references, r.metadata) for r in custom] == [
        (r.external_id, r.category, r.turns, r.references, r.metadata) for r in bundled
    ]


def test_fastchat_embedded_reference_fills_references_without_a_reference_file(tmp_path):
    path = write(
        tmp_path,
        "q.jsonl",
        [
            {"question_id": 1, "category": "math", "turns": ["1+1?", "and 2+2?"], "reference": ["2", "4"]},
            {"question_id": "b", "category": "writing", "turns": ["Write."]},
        ],
    )
    rows = parse("fastchat", path)
    assert rows[0].references == ("2", "4") and rows[0].turns == ("1+1?", "and 2+2?")
    assert rows[1].external_id == "b" and rows[1].references == ()


def test_arena_hard_v01_and_v2(tmp_path):
    path = write(
        tmp_path,
        "question.jsonl",
        [
            {
                "question_id": "328c",
                "category": "arena-hard-v0.1",
                "cluster": "Python",
                "turns": [{"content": "Sort it."}],
            },
            {"uid": "u2", "category": "hard_prompt", "prompt": "Prove it."},
        ],
    )
    rows = parse("arena_hard", path)
    assert [(r.external_id, r.category, r.turns) for r in rows] == [
        ("328c", "arena-hard-v0.1", ("Sort it.",)),
        ("u2", "hard_prompt", ("Prove it.",)),
    ]
    assert rows[0].metadata == {"cluster": "Python"}


def test_alpaca_eval_array_numbers_records_and_uses_dataset(tmp_path):
    path = write(
        tmp_path,
        "eval.json",
        json.dumps(
            [
                {"instruction": "Say hi.", "dataset": "helpful_base", "output": "x"},
                {"instruction": "Say bye.", "dataset": "koala"},
            ]
        ),
    )
    rows = parse("alpaca_eval", path)
    assert [(r.external_id, r.category, r.turns) for r in rows] == [
        ("1", "helpful_base", ("Say hi.",)),
        ("2", "koala", ("Say bye.",)),
    ]


def test_jsonl_turn_columns_prompt_and_reference(tmp_path):
    path = write(
        tmp_path,
        "p.jsonl",
        [
            {"prompt_id": "a", "category": "x", "turn_1": "one", "turn_2": "two", "reference": ["r1", "r2"]},
            {"prompt_id": 7, "prompt": "single", "reference": "r"},
            {"question_id": "t", "turns": ["x", "y", "z"]},
        ],
    )
    rows = parse("jsonl", path)
    assert rows[0].turns == ("one", "two") and rows[0].references == ("r1", "r2")
    assert rows[1].external_id == "7" and rows[1].category == "" and rows[1].references == ("r",)
    assert len(rows[2].turns) == 3


def test_csv_turns_and_references(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "prompt_id,category,turn_1,turn_2,reference_1\n"
        'a,math,"1+1, please",and 2+2?,2\n'
        "b,writing,Write a poem.,,\n"
    )
    rows = parse("csv", path)
    assert rows[0].turns == ("1+1, please", "and 2+2?") and rows[0].references == ("2",)
    assert rows[1].turns == ("Write a poem.",) and rows[1].references == ()


@pytest.mark.parametrize(
    ("fmt", "content", "line", "field"),
    [
        (
            "fastchat",
            [{"question_id": 1, "category": "a", "turns": ["x"]}, {"question_id": 2, "turns": ["y"]}],
            2,
            "category",
        ),
        (
            "fastchat",
            [
                {"question_id": 1, "category": "a", "turns": ["x"]},
                {"question_id": 1, "category": "a", "turns": ["y"]},
            ],
            2,
            "question_id",
        ),
        ("fastchat", [{"question_id": 1, "category": "a", "turns": [3]}], 1, "turns[0]"),
        ("arena_hard", [{"uid": "a", "turns": [{"text": "x"}]}], 1, "content"),
        ("jsonl", [{"prompt_id": "a", "turn_1": "x", "turn_3": "y"}], 1, "turn_2"),
        ("jsonl", [{"prompt_id": "a", "prompt": "x", "turns": ["y"]}], 1, "prompt"),
        ("jsonl", [{"category": "x", "prompt": "y"}], 1, "prompt_id"),
        ("jsonl", [{"prompt_id": "a", "prompt": "x", "reference": ["1", "2"]}], 1, "reference"),
        ("csv", "prompt_id,turn_1,turn_2\na,x,y\nb,,y\n", 3, "turn_1"),
        ("csv", "category,prompt\nx,y\n", 1, "prompt_id"),
    ],
)
def test_a_bad_line_names_file_line_and_field(tmp_path, fmt, content, line, field):
    path = write(tmp_path, f"bad.{'csv' if fmt == 'csv' else 'jsonl'}", content)
    with pytest.raises(ImportFormatError) as err:
        parse(fmt, path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert str(path) in str(err.value) and f"line {line}" in str(err.value)


def test_reference_for_an_unknown_question_is_refused(tmp_path):
    q = write(tmp_path, "q.jsonl", [{"question_id": 1, "category": "a", "turns": ["x"]}])
    refs = write(tmp_path, "r.jsonl", [{"question_id": 2, "choices": [{"index": 0, "turns": ["y"]}]}])
    with pytest.raises(ImportFormatError) as err:
        parse("fastchat", q, references=refs)
    assert err.value.file == str(refs) and err.value.field == "question_id"


def test_empty_file_is_refused(tmp_path):
    path = write(tmp_path, "e.jsonl", "")
    with pytest.raises(ImportFormatError):
        parse("jsonl", path)
