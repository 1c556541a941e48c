"""An operator imports answer and verdict files: good files land whole, bad files write nothing
and say where the problem is, and importing a file twice duplicates nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from arena.imports.rows import ImportFormatError
from arena.markdown import render_markdown, turns_key
from arena.models import Answer, Contender, ImportBatch, ImportedVerdict
from arena.services.demo import contenders_load
from arena.services.imports import answers_import, verdicts_import

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int, int]:
    return (
        Answer.objects.count(),
        ImportedVerdict.objects.count(),
        Contender.objects.count(),
        ImportBatch.objects.count(),
    )


def rewrite_line(src: Path, dst: Path, line: int, edit) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line - 1])
    edit(record)
    lines[line - 1] = json.dumps(record)
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


def test_mt_bench_answers_import_with_both_turns_and_reimport_is_a_no_op(bundled_prompt_sets, data_dir):
    path = data_dir / "demo" / "mt_bench" / "model_answer" / "gpt-4.jsonl"
    first = answers_import(path=path, fmt="fastchat", prompt_set="mt_bench")
    assert (first.rows, first.created, first.created_contenders) == (80, 80, ("gpt-4",))
    answer = Answer.objects.get(contender__name="gpt-4", prompt__external_id="81")
    assert len(answer.turns) == 2 and answer.turns[0].startswith("Title: Aloha")
    assert len(answer.token_counts) == 2 and all(n > 50 for n in answer.token_counts)
    assert len(answer.style) == 2 and len(answer.style[0]) == 4
    assert answer.rendered["key"] == turns_key(answer.turns)  # stored as HTML, for the rating page
    assert answer.rendered["html"] == [render_markdown(text) for text in answer.turns]
    before = stored()
    again = answers_import(path=path, fmt="fastchat", prompt_set="mt_bench")
    assert again.already_imported and stored() == before


def test_a_missing_field_writes_nothing_and_names_file_line_and_field(
    bundled_prompt_sets, data_dir, tmp_path
):
    bad = rewrite_line(
        data_dir / "demo/mt_bench/model_answer/claude-v1.jsonl",
        tmp_path / "claude-v1.jsonl",
        57,
        lambda r: r.pop("choices"),
    )
    before = stored()
    with pytest.raises(ImportFormatError) as info:
        answers_import(path=bad, fmt="fastchat", prompt_set="mt_bench")
    assert info.value.line == 57 and str(bad) in str(info.value) and "choices" in str(info.value)
    assert stored() == before


def test_an_unknown_question_id_is_refused_with_its_line(bundled_prompt_sets, data_dir, tmp_path):
    bad = rewrite_line(
        data_dir / "demo/mt_bench/model_answer/claude-v1.jsonl",
        tmp_path / "claude-v1.jsonl",
        12,
        lambda r: r.update(question_id=999),
    )
    with pytest.raises(CommandError, match=r"line 12.*question_id.*'999'.*nothing was imported"):
        call_command("import_answers", str(bad), "--format", "fastchat", "--prompt-set", "mt_bench")
    assert stored() == (0, 0, 0, 0)


def test_a_different_answer_for_the_same_model_and_prompt_needs_replace(
    bundled_prompt_sets, data_dir, tmp_path
):
    original = data_dir / "demo/mt_bench/model_answer/llama-13b.jsonl"
    answers_import(path=original, fmt="fastchat", prompt_set="mt_bench")
    changed = rewrite_line(
        original, tmp_path / "llama-13b.jsonl", 3, lambda r: r["choices"][0].update(turns=["new", "text"])
    )
    with pytest.raises(ImportFormatError, match=r"line 3.*already has a different answer"):
        answers_import(path=changed, fmt="fastchat", prompt_set="mt_bench")
    answers_import(path=changed, fmt="fastchat", prompt_set="mt_bench", replace=True)
    replaced = Answer.objects.get(contender__name="llama-13b", prompt__external_id="83")
    assert replaced.turns == ["new", "text"]
    assert replaced.rendered["html"] == ["<p>new</p>\n", "<p>text</p>\n"]
    assert Answer.objects.filter(contender__name="llama-13b").count() == 80


def test_vicuna_reviews_resolve_answer_ids_to_contenders(bundled_prompt_sets, data_dir):
    contenders_load(data_dir / "demo" / "contenders.json")
    for path in sorted((data_dir / "demo/vicuna80/answers").glob("*.jsonl")):
        answers_import(path=path, fmt="fastchat", prompt_set="vicuna80")
    review = data_dir / "demo/vicuna80/reviews/review_gpt35_vicuna-13b.jsonl"
    result = verdicts_import(
        path=review, fmt="fastchat_review", source="vicuna80-gpt4-review", prompt_set="vicuna80"
    )
    assert result.created == 80
    pairs = set(ImportedVerdict.objects.values_list("model_a__name", "model_b__name"))
    assert pairs == {("gpt-3.5-turbo", "vicuna-13b")}
    # FastChat's table: gpt35 scored higher on 44 questions, vicuna on 14, equal on 22.
    winners = sorted(ImportedVerdict.objects.values_list("winner", flat=True))
    assert (winners.count("model_a"), winners.count("model_b"), winners.count("tie")) == (44, 14, 22)


def test_with_a_prompt_set_an_unknown_model_is_refused(bundled_prompt_sets, tmp_path):
    path = tmp_path / "battles.jsonl"
    path.write_text(
        json.dumps({"model_a": "gpt-4", "model_b": "claude-v1", "winner": "model_a", "question_id": 81})
        + "\n"
    )
    before = stored()
    with pytest.raises(ImportFormatError, match=r"line 1.*model_a.*unknown model 'gpt-4'"):
        verdicts_import(path=path, fmt="fastchat", source="arena", prompt_set="mt_bench")
    assert stored() == before


def test_one_bad_line_in_100000_writes_nothing_then_the_fixed_file_imports_whole(tmp_path):
    models = ["alpha", "beta", "gamma", "delta", "epsilon"]
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    lines = []
    for i in range(100_000):
        a, b = models[i % 5], models[(i * 7 + 1) % 5]
        if a == b:
            b = models[(i + 2) % 5]
        lines.append(json.dumps({"model_a": a, "model_b": b, "winner": winners[i % 4], "tstamp": 1.7e9 + i}))
    good = tmp_path / "battles.jsonl"
    good.write_text("\n".join(lines) + "\n")
    lines[73_411] = (
        lines[73_411]
        .replace('"winner": "model_', '"winner": "model_c')
        .replace('"winner": "tie', '"winner": "model_c')
    )
    bad = tmp_path / "battles-bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")

    with pytest.raises(ImportFormatError) as info:
        verdicts_import(path=bad, fmt="fastchat", source="synthetic")
    assert info.value.line == 73_412 and "winner" in str(info.value)
    assert stored() == (0, 0, 0, 0)

    result = verdicts_import(path=good, fmt="fastchat", source="synthetic")
    assert result.created == 100_000 and ImportedVerdict.objects.count() == 100_000
    assert set(Contender.objects.values_list("name", flat=True)) == set(models)
    assert ImportedVerdict.objects.filter(winner="both_bad").count() == 25_000
    assert verdicts_import(path=good, fmt="fastchat", source="synthetic").already_imported


def test_fastchat_battles_round_trip_through_export(tmp_path):
    records = [
        {
            "model_a": "gpt-4",
            "model_b": "claude-v1",
            "winner": "model_a",
            "question_id": 81,
            "turn": 1,
            "judge": "expert_1",
            "tstamp": 1690000000.5,
        },
        {
            "model_a": "claude-v1",
            "model_b": "llama-13b",
            "winner": "tie (bothbad)",
            "question_id": 82,
            "turn": 2,
            "judge": "expert_2",
            "tstamp": 1690000001.0,
        },
        {
            "model_a": "llama-13b",
            "model_b": "gpt-4",
            "winner": "tie",
            "question_id": 83,
            "turn": 1,
            "judge": "author_0",
            "tstamp": 1690000002.0,
        },
        {
            "model_a": "llama-13b",
            "model_b": "gpt-4",
            "winner": "model_b",
            "question_id": 83,
            "turn": 1,
            "judge": "author_1",
            "tstamp": 1690000003.0,
        },
    ]
    source = tmp_path / "arena.json"
    source.write_text(json.dumps(records, indent=1))
    call_command("import_battles", str(source), "--format", "fastchat", "--source", "arena-sample")
    exported = tmp_path / "export.json"
    call_command(
        "export_battles", "--format", "fastchat", "--source", "import:arena-sample", "-o", str(exported)
    )
    assert json.loads(exported.read_text()) == records
    copy = tmp_path / "again.json"
    shutil.copy(source, copy)  # the same file under another name: recognised by its bytes
    call_command("import_battles", str(copy), "--format", "fastchat", "--source", "arena-sample")
    assert ImportedVerdict.objects.count() == 4
