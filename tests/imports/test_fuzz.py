"""Fuzzing the import path: whatever a file holds, every parser and the import service either
import it or refuse it with an ``ImportFormatError`` (file, line, field — nothing imported), never
another exception. Hypothesis builds the files from the fields the parsers read, with the values
that broke imports before: NUL characters, names longer than their columns, turn numbers beyond a
small integer, cells over the csv module's limit, JSON nested thousands deep, random bytes.

Bounded (a fixed seed and a few hundred examples) so it runs in seconds and the same way in CI.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.imports.parsers import FORMATS, parse
from arena.imports.rows import ImportFormatError
from arena.models import Answer, Contender, ImportBatch, ImportedVerdict, Prompt, PromptSet
from arena.services.imports import answers_import, verdicts_import

FIELDS = (
    "annotator",
    "answer",
    "answer1_id",
    "answer2_id",
    "answer_id",
    "category",
    "choices",
    "dataset",
    "first_shown",
    "g1_judgment",
    "g2_judgment",
    "g1_winner",
    "g2_winner",
    "generation",
    "generation_truncated",
    "generator",
    "generator_1",
    "generator_2",
    "id",
    "input",
    "instances",
    "instruction",
    "judge",
    "metadata",
    "model",
    "model_1",
    "model_2",
    "model_a",
    "model_b",
    "model_id",
    "motivation_app",
    "output",
    "preference",
    "prompt",
    "prompt_id",
    "prompt_text",
    "question_id",
    "rater",
    "reference",
    "response",
    "review_id",
    "reviewer_id",
    "score",
    "text",
    "tstamp",
    "turn",
    "turns",
    "winner",
)
# Values a field may well hold, valid or not, with the ones that used to end in a traceback.
TEXT = st.one_of(
    st.sampled_from(
        ["model_a", "model_b", "tie", "both_bad", "error", "gpt-4", "alpha", "beta", "1", "81", ""]
    ),
    st.text(max_size=12),
    st.just("nul\x00byte"),
    st.integers(min_value=190, max_value=420).map(lambda n: "m" * n),
)
NUMBER = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([32767, 32768, 40000, 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
RECORD = st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=8)
DEEP = 3000  # brackets: far beyond the JSON decoder's recursion limit


@st.composite
def file_bytes(draw) -> bytes:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["jsonl", "array", "csv", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "csv":
        header = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True))
        rows = draw(st.lists(st.lists(TEXT, min_size=len(header), max_size=len(header)), max_size=4))
        if draw(st.booleans()):
            rows.append(["x" * 140_000] + [""] * (len(header) - 1))  # over csv.field_size_limit()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8", "surrogatepass")
    records = [json.dumps(r) for r in draw(st.lists(RECORD, min_size=1, max_size=4))]
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(records) - 1))
        records[at] = records[at][:-1] + f', "metadata": {"[" * DEEP}{"]" * DEEP}' + "}"
    text = "\n".join(records) if kind == "jsonl" else "[" + ",\n".join(records) + "]"
    return text.encode("utf-8", "surrogatepass")


NAMES = st.sampled_from(
    [
        "fuzz.jsonl",
        "gpt-4.jsonl",
        "model_outputs.json",
        "davinci_predictions.jsonl",
        "answer_bard-vs-answer_claude-human-reviewer_threeclass.jsonl",
        "13b-guanaco-vicuna-generations-topp0.9-temp0.7-vs-answer-bard-gpt-4-reviewer-threeclass.jsonl",
        "fuzz.csv",
    ]
)
FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@FUZZ
@given(data=file_bytes(), name=NAMES)
def test_every_parser_imports_or_refuses_any_file(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    for kind, registry in FORMATS.items():
        for fmt in registry:
            try:
                for _row in parse(kind, fmt, path):
                    pass
            except ImportFormatError as exc:
                assert str(path) in str(exc)


SOURCES = st.one_of(
    st.sampled_from(["fuzz", "crowd-1"]),
    st.just("s" * 300),
    st.just("bad\x00source"),
    st.just("has space"),
    st.just(""),
)


@pytest.fixture
def fuzz_set(db) -> PromptSet:
    pset = PromptSet.objects.create(slug="fuzz", name="fuzz")
    for qid in ("1", "81", "alpha"):
        Prompt.objects.create(prompt_set=pset, external_id=qid, turns=["Question?", "And?"])
    return pset


def _stored() -> tuple[int, ...]:
    return (
        Answer.objects.count(),
        ImportedVerdict.objects.count(),
        Contender.objects.count(),
        ImportBatch.objects.count(),
    )


@FUZZ
@given(
    data=file_bytes(),
    name=NAMES,
    source=SOURCES,
    linked=st.booleans(),
    verdict_format=st.sampled_from(["jsonl", "csv", "fastchat", "mtbench_human"]),
    answer_format=st.sampled_from(["jsonl", "csv", "fastchat"]),
)
def test_the_import_service_imports_or_refuses_all_or_nothing(
    tmp_path_factory, fuzz_set, data, name, source, linked, verdict_format, answer_format
):
    path: Path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    for run in (
        lambda: verdicts_import(
            path=path, fmt=verdict_format, source=source, prompt_set="fuzz" if linked else None
        ),
        lambda: answers_import(path=path, fmt=answer_format, prompt_set="fuzz"),
    ):
        before = _stored()
        try:
            with (
                transaction.atomic()
            ):  # a savepoint: a failed example leaves the next one a clean transaction
                run()
        except ImportFormatError:
            assert _stored() == before
