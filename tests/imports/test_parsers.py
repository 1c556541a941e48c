"""An operator imports the public benchmark files: every real file parses with the row counts
its PROVENANCE.md gives, a broken file is refused with the file, line and field named, and
battles exported in FastChat's format read back as the same verdicts.

Pure tests: the parsers import no Django (run with ``-p no:django`` before settings exist).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arena.imports.parsers import (
    ANSWER_FORMATS,
    PROMPT_FORMATS,
    VERDICT_FORMATS,
    parse,
    parse_reference_answers,
    write_fastchat_battles,
)
from arena.imports.parsers.alpaca_eval import preference_winner
from arena.imports.parsers.filenames import pair_from_filename
from arena.imports.parsers.prd_qlora import qlora_answer_id
from arena.imports.rows import AnswerRow, ImportFormatError, PromptRow, VerdictRow

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
needs_data = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"public datasets not found at {DATASETS}")


def files(pattern: str) -> list[Path]:
    return sorted(DATASETS.glob(pattern)) if DATASETS.is_dir() else []


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(DATASETS)) for p in paths]


def rows(kind: str, fmt: str, *paths: Path, **opts: Any) -> list[Any]:
    return [row for path in paths for row in parse(kind, fmt, path, **opts)]


def winners(verdicts: list[VerdictRow]) -> dict[str | None, int]:
    return dict(Counter(v.winner for v in verdicts))


# =========================================================================== registry


def test_registry_names_the_formats_the_import_forms_offer():
    assert set(PROMPT_FORMATS) == {"vicuna80", "mt_bench", "user_oriented_252"}
    assert set(ANSWER_FORMATS) == {"fastchat", "qlora", "self_instruct", "alpaca_eval", "jsonl", "csv"}
    assert set(VERDICT_FORMATS) == {
        "fastchat", "mtbench_human", "mtbench_pair", "fastchat_review", "threeclass", "prd_human",
        "alpaca_eval", "jsonl", "csv",
    }  # fmt: skip


def test_an_unknown_format_is_refused_with_the_known_ones_listed(tmp_path):
    path = tmp_path / "votes.jsonl"
    with pytest.raises(ImportFormatError) as exc:
        parse("verdicts", "chatbot_arena", path)
    message = str(exc.value)
    assert "'chatbot_arena'" in message and str(path) in message
    for fmt in VERDICT_FORMATS:
        assert fmt in message
    with pytest.raises(ImportFormatError, match="known kinds: prompts, answers, verdicts"):
        parse("battles", "fastchat", path)


def test_an_option_a_format_does_not_take_is_refused_but_none_means_not_given(tmp_path):
    path = tmp_path / "battles.jsonl"
    path.write_text('{"model_a": "a", "model_b": "b", "winner": "tie"}\n')
    assert len(list(parse("verdicts", "fastchat", path, contender=None))) == 1
    with pytest.raises(ImportFormatError, match="takes no option contender; its options: none"):
        parse("verdicts", "fastchat", path, contender="gpt-4")


# =========================================================================== real prompt sets


@needs_data
def test_vicuna80_questions_are_the_same_in_both_fastchat_layouts_with_gpt4_references_for_61_to_70():
    table = rows("prompts", "vicuna80", DATASETS / "vicuna80/table/question.jsonl")
    bench = DATASETS / "vicuna80/llm_judge/vicuna_bench"
    judge = rows(
        "prompts", "vicuna80", bench / "question.jsonl", references=bench / "reference_answer/gpt-4.jsonl"
    )
    assert len(table) == len(judge) == 80
    assert [(p.external_id, p.category, p.turns) for p in table] == [
        (p.external_id, p.category, p.turns) for p in judge
    ]
    assert [p.external_id for p in judge] == [str(i) for i in range(1, 81)]
    assert Counter(p.category for p in judge) == {
        "generic": 10, "knowledge": 10, "roleplay": 10, "common-sense": 10, "fermi": 10,
        "counterfactual": 10, "writing": 10, "coding": 7, "math": 3,
    }  # fmt: skip
    assert [p.external_id for p in judge if p.references] == [str(i) for i in range(61, 71)]
    assert all(len(p.references) == 1 for p in judge if p.references)
    assert all(not p.references for p in table)


@needs_data
def test_mt_bench_questions_have_two_turns_gpt4_references_and_the_human_references_in_metadata():
    folder = DATASETS / "mt_bench"
    prompts = rows(
        "prompts", "mt_bench", folder / "question.jsonl", references=folder / "reference_answer/gpt-4.jsonl"
    )
    assert len(prompts) == 80 and all(len(p.turns) == 2 for p in prompts)
    assert [p.external_id for p in prompts] == [str(i) for i in range(81, 161)]
    assert [p.external_id for p in prompts if p.references] == [str(i) for i in range(101, 131)]
    assert all(len(p.references) == 2 for p in prompts if p.references)
    human = [p for p in prompts if "human_reference" in p.metadata]
    assert len(human) == 39
    assert Counter(p.category for p in human) == {
        "reasoning": 10,
        "math": 10,
        "coding": 9,
        "extraction": 5,
        "stem": 4,
        "roleplay": 1,
    }
    q101 = next(p for p in prompts if p.external_id == "101")
    assert q101.metadata["human_reference"][0] == "You are in second place."
    assert q101.references[0].startswith("If you have just overtaken the second person")
    assert len(dict(parse_reference_answers(folder / "reference_answer/gpt-4.jsonl"))) == 30


@needs_data
def test_user_oriented_252_prompts_are_the_alpaca_eval_selfinstruct_instructions():
    prompts = rows(
        "prompts",
        "user_oriented_252",
        DATASETS / "self_instruct_user_oriented_252/user_oriented_instructions.jsonl",
    )
    assert [p.external_id for p in prompts] == [f"user_oriented_task_{i}" for i in range(252)]
    assert len({p.category for p in prompts}) == 71
    assert all(len(p.turns) == 1 and len(p.references) == 1 for p in prompts)
    assert sum(1 for p in prompts if p.metadata["input"] == "") == 44
    alpaca = rows("answers", "alpaca_eval", DATASETS / "alpaca_eval/results/alpaca-7b/model_outputs.json")
    selfinstruct = {a.prompt_text for a in alpaca if a.metadata["dataset"] == "selfinstruct"}
    assert len(selfinstruct) == 252
    assert {p.turns[0] for p in prompts} == selfinstruct


# =========================================================================== real answers

MT_BENCH_ANSWERS = files("mt_bench/model_answer/*.jsonl")


@needs_data
def test_every_answer_folder_holds_the_files_its_provenance_lists():
    assert len(MT_BENCH_ANSWERS) == 31
    assert len(VICUNA_TABLE_ANSWERS) == 7
    assert len(PRD_GENERATIONS) == 5
    assert len(QLORA_GENERATIONS) == 33
    assert len(QLORA_BASELINES) == 4
    assert len(SELF_INSTRUCT_PREDICTIONS) == 8
    assert len(ALPACA_OUTPUTS) == 5


@needs_data
@pytest.mark.parametrize("path", MT_BENCH_ANSWERS, ids=ids(MT_BENCH_ANSWERS))
def test_mt_bench_model_answers_are_named_by_file_with_two_turns_for_each_question(path):
    answers = rows("answers", "fastchat", path)
    assert len(answers) == 80
    assert {a.contender for a in answers} == {path.stem}
    assert [a.prompt for a in answers] == [str(i) for i in range(81, 161)]
    assert all(len(a.turns) == 2 and a.external_id for a in answers)


@needs_data
def test_mt_bench_answer_quirks_survive_the_file_name_rule():
    rwkv = rows("answers", "fastchat", DATASETS / "mt_bench/model_answer/rwkv-4-raven-14b.jsonl")
    assert {(a.contender, a.metadata["model_id"]) for a in rwkv} == {("rwkv-4-raven-14b", "RWKV-4-Raven-14B")}
    llama = rows("answers", "fastchat", DATASETS / "mt_bench/model_answer/llama-13b.jsonl")
    assert next(a for a in llama if a.prompt == "127").turns[0] == ""
    renamed = rows(
        "answers", "fastchat", DATASETS / "mt_bench/model_answer/gpt-4.jsonl", contender="gpt-4-0314"
    )
    assert {a.contender for a in renamed} == {"gpt-4-0314"}


@needs_data
def test_vicuna_13b_v12_answers_from_the_human_votes_have_79_questions_and_no_answer_ids():
    answers = rows("answers", "fastchat", DATASETS / "mt_bench/human_judgments/vicuna-13b-v1.2_answers.jsonl")
    assert len(answers) == 79
    assert "144" not in {a.prompt for a in answers}
    assert {a.contender for a in answers} == {"vicuna-13b-v1.2"}
    assert all(a.external_id is None and len(a.turns) == 2 and all(a.turns) for a in answers)


VICUNA_TABLE_ANSWERS = files("vicuna80/table/answer/*.jsonl")
TABLE_MODEL_IDS = {
    "answer_alpaca-13b": "alpaca-13b:v1",
    "answer_bard": "bard:20230327",
    "answer_gpt35": "gpt-3.5-turbo:20230327",
    "answer_llama-13b": "llama-13b:v1",
    "answer_vicuna-13b": "vicuna-13b:20230322-clean-lang",
    "answer_vicuna-13b-20230322-new-hp-fp16": "vicuna-13b:20230322-new-hp-fp16",
    "answer_vicuna-7b-20230322-fp16": "vicuna-7b:20230322-fp16",
    "answer_claude": "claude:20230617",
    "answer_gpt4": "gpt-4:20230520",
}
PRD_GENERATIONS = files("prd_vicuna80/generations/*.jsonl")
QLORA_BASELINES = files("qlora_vicuna80/generations/vicuna/answer_*.jsonl")
TABLE_ANSWER_FILES = VICUNA_TABLE_ANSWERS + PRD_GENERATIONS + QLORA_BASELINES


@needs_data
@pytest.mark.parametrize("path", TABLE_ANSWER_FILES, ids=ids(TABLE_ANSWER_FILES))
def test_2023_eval_table_answers_are_named_by_model_id(path):
    answers = rows("answers", "fastchat", path)
    assert len(answers) == 80
    assert {a.contender for a in answers} == {TABLE_MODEL_IDS[path.stem]}
    assert [a.prompt for a in answers] == [str(i) for i in range(1, 81)]
    assert all(len(a.turns) == 1 and a.external_id for a in answers)
    if path.name == "answer_llama-13b.jsonl":
        assert [a.prompt for a in answers if a.turns == ("",)] == ["74"]


QLORA_GENERATIONS = files("qlora_vicuna80/generations/vicuna/*-vicuna-generations-*.jsonl")


@needs_data
@pytest.mark.parametrize("path", QLORA_GENERATIONS, ids=ids(QLORA_GENERATIONS))
def test_qlora_generations_are_named_like_the_rating_files_name_them(path):
    answers = rows("answers", "qlora", path)
    assert len(answers) == 80
    size, rest = path.stem.split("-", 1)
    dataset = rest.split("-vicuna-generations")[0]
    expected = f"{size}-{dataset}" + ("-secondround" if path.stem.endswith("secondround") else "")
    assert {a.contender for a in answers} == {expected}
    assert all(a.external_id == qlora_answer_id(a.turns[0]) for a in answers)


@needs_data
def test_qlora_answer_ids_resolve_every_pairwise_rating_to_the_named_model():
    answer_ids = {}
    for path in QLORA_GENERATIONS:
        for a in rows("answers", "qlora", path):
            answer_ids[a.external_id] = (a.contender, a.prompt)
    for path in QLORA_BASELINES:
        for a in rows("answers", "fastchat", path):
            answer_ids[a.external_id] = (path.stem.removeprefix("answer_"), a.prompt)
    verdicts = rows("verdicts", "threeclass", *QLORA_PAIRWISE)
    assert len(verdicts) == 4480
    for v in verdicts:
        assert answer_ids[v.answer_a] == (v.model_a, v.prompt)
        assert answer_ids[v.answer_b] == (v.model_b, v.prompt)


SELF_INSTRUCT_PREDICTIONS = files("self_instruct_user_oriented_252/predictions/*_predictions.jsonl")
EMPTY_AFTER_STRIP = {
    "davinci-t0-ft": 45 + 3,
    "davinci-superni-ft": 1,
    "davinci-self-instruct-and-superni-ft": 2,
}


@needs_data
@pytest.mark.parametrize("path", SELF_INSTRUCT_PREDICTIONS, ids=ids(SELF_INSTRUCT_PREDICTIONS))
def test_self_instruct_predictions_join_the_252_tasks_by_line_with_stripped_responses(path):
    answers = rows("answers", "self_instruct", path)
    assert len(answers) == 252
    assert {a.contender for a in answers} == {path.stem.removesuffix("_predictions")}
    assert [a.prompt for a in answers] == [f"user_oriented_task_{i}" for i in range(252)]
    assert all(a.turns[0] == a.turns[0].strip() for a in answers)
    # 45 raw empty responses in davinci-t0-ft, plus whitespace-only ones that stripping empties.
    empty = sum(1 for a in answers if a.turns == ("",))
    assert empty == EMPTY_AFTER_STRIP.get(path.stem.removesuffix("_predictions"), 0)


ALPACA_OUTPUTS = files("alpaca_eval/results/*/model_outputs.json")


@needs_data
@pytest.mark.parametrize("path", ALPACA_OUTPUTS, ids=ids(ALPACA_OUTPUTS))
def test_alpaca_eval_outputs_name_their_prompt_by_instruction(path):
    answers = rows("answers", "alpaca_eval", path)
    assert len(answers) == (804 if path.parent.name == "llama-2-70b-chat-hf" else 805)
    assert {a.contender for a in answers} == {path.parent.name}
    assert all(a.prompt is None and a.prompt_text for a in answers)
    assert len({a.prompt_text for a in answers}) == len(answers)
    assert Counter(a.metadata["dataset"] for a in answers)["vicuna"] == 80
    # The element lines are real file lines: AlpacaEval writes one key per line.
    assert [a.line for a in answers[:2]] == [2, 8]


# =========================================================================== real verdicts


@needs_data
def test_mt_bench_human_turn1_votes():
    votes = rows(
        "verdicts", "mtbench_human", DATASETS / "mt_bench/human_judgments/human_judgments_turn1.jsonl"
    )
    assert len(votes) == 1689
    assert winners(votes) == {"model_a": 656, "model_b": 628, "tie": 405}
    assert {v.turn for v in votes} == {1}
    assert len({v.rater for v in votes}) == 65
    assert all(v.position_known and v.prompt for v in votes)
    assert Counter(m for v in votes for m in (v.model_a, v.model_b))["gpt-3.5-turbo"] == 745


@needs_data
def test_mt_bench_human_turn2_partial_votes():
    votes = rows(
        "verdicts", "mtbench_human", DATASETS / "mt_bench/human_judgments/human_judgments_turn2_partial.jsonl"
    )
    assert len(votes) == 869
    assert winners(votes) == {"model_a": 129, "model_b": 543, "tie": 197}
    assert {v.turn for v in votes} == {2}


@needs_data
def test_mt_bench_gpt4_pair_partial_keeps_inconsistent_ties_marked():
    verdicts = rows("verdicts", "fastchat", DATASETS / "mt_bench/model_judgment/gpt-4_pair_partial.jsonl")
    assert len(verdicts) == 1240
    assert winners(verdicts) == {"model_b": 827, "model_a": 109, "tie": 108 + 196}
    assert sum(1 for v in verdicts if v.metadata.get("inconsistent")) == 196
    assert Counter(v.turn for v in verdicts) == {1: 620, 2: 620}
    assert {v.rater for v in verdicts} == {"gpt4_pair"}


VICUNA_REVIEWS = files("vicuna80/table/review/*/review_*.jsonl")
# (set/file) -> Assistant 1 higher, Assistant 2 higher, equal; from vicuna80/PROVENANCE.md
REVIEW_COUNTS = {
    "others/review_llama_alpaca-13b": (19, 60, 1),
    "vicuna-13b_20230322-clean-lang/review_alpaca-13b_vicuna-13b": (3, 76, 1),
    "vicuna-13b_20230322-clean-lang/review_bard_vicuna-13b": (30, 40, 10),
    "vicuna-13b_20230322-clean-lang/review_gpt35_vicuna-13b": (44, 14, 22),
    "vicuna-13b_20230322-clean-lang/review_llama-13b_vicuna-13b": (3, 77, 0),
    "vicuna-13b_20230322-new-hp-fp16/review_alpaca-13b_vicuna-13b-20230322-new-hp-fp16": (4, 76, 0),
    "vicuna-13b_20230322-new-hp-fp16/review_bard_vicuna-13b-20230322-new-hp-fp16": (28, 39, 13),
    "vicuna-13b_20230322-new-hp-fp16/review_gpt35_vicuna-13b-20230322-new-hp-fp16": (42, 22, 16),
    "vicuna-13b_20230322-new-hp-fp16/review_llama_vicuna-13b-20230322-new-hp-fp16": (5, 75, 0),
    "vicuna-7b_20230322-fp16/review_alpaca-13b_vicuna-7b": (4, 71, 5),
    "vicuna-7b_20230322-fp16/review_bard_vicuna-7b": (39, 27, 14),
    "vicuna-7b_20230322-fp16/review_gpt35_vicuna-7b": (52, 12, 16),
    "vicuna-7b_20230322-fp16/review_llama_vicuna-7b": (4, 74, 2),
}


@needs_data
@pytest.mark.parametrize("path", VICUNA_REVIEWS, ids=ids(VICUNA_REVIEWS))
def test_vicuna80_gpt4_reviews_score_ties_and_answer_ids(path):
    reviews = rows("verdicts", "fastchat_review", path)
    first, second, equal = REVIEW_COUNTS[f"{path.parent.name}/{path.stem}"]
    assert len(reviews) == 80
    assert winners(reviews) == {
        k: n for k, n in (("model_a", first), ("model_b", second), ("tie", equal)) if n
    }
    assert all(r.model_a is None and r.answer_a and r.answer_b and r.raw_output for r in reviews)
    assert {r.rater for r in reviews} == {"gpt-4"}


@needs_data
def test_vicuna80_reviews_total_1040_with_100_ties_and_both_reviewer_id_kinds():
    reviews = rows("verdicts", "fastchat_review", *VICUNA_REVIEWS)
    assert len(VICUNA_REVIEWS) == 13 and len(reviews) == 1040
    assert winners(reviews)["tie"] == 100
    # String reviewer ids only in the 4 clean-lang files (70 generic + 7 coding + 3 math each).
    reviewer_ids = Counter(r.metadata["reviewer_id"] for r in reviews)
    assert (reviewer_ids["gpt-4-0328-generic"], reviewer_ids["gpt-4-0328-coding"]) == (4 * 70, 4 * 7)
    answer_files = {
        a.external_id: path.stem for path in VICUNA_TABLE_ANSWERS for a in rows("answers", "fastchat", path)
    }
    assert all(r.answer_a in answer_files and r.answer_b in answer_files for r in reviews)


@needs_data
def test_qlora_relative_scores_read_as_reviews_with_60_unparsable():
    paths = files("qlora_vicuna80/ratings-gpt4/vicuna/relative-gpt-3.5/*.jsonl")
    reviews = rows("verdicts", "fastchat_review", *paths)
    assert len(paths) == 72 and len(reviews) == 5760
    assert winners(reviews)[None] == 60 and winners(reviews)["tie"] == 156


PRD_LLM_RATINGS = [p for p in files("prd_vicuna80/ratings-*/*.jsonl") if p.parent.name != "ratings-human"]
QLORA_PAIRWISE = files("qlora_vicuna80/ratings-gpt4/vicuna/pairwise/*.jsonl")
PRD_JUDGE_COUNTS = {  # judge dir -> (score 1, score 2, score 3), PRD PROVENANCE (gpt35: the 20 '_' files)
    "ratings-bard": (1253, 290, 57),
    "ratings-claude": (532, 937, 131),
    "ratings-gpt35": (634, 660, 306),
    "ratings-gpt4": (848, 512, 240),
    "ratings-vicuna-13b": (631, 922, 47),
}


@needs_data
@pytest.mark.parametrize("path", PRD_LLM_RATINGS + QLORA_PAIRWISE, ids=ids(PRD_LLM_RATINGS + QLORA_PAIRWISE))
def test_threeclass_ratings_take_names_and_judge_from_the_file_name(path):
    verdicts = rows("verdicts", "threeclass", path)
    assert len(verdicts) == 80
    assert [v.prompt for v in verdicts] == [str(i) for i in range(1, 81)]
    (pair,) = {(v.model_a, v.model_b, v.rater) for v in verdicts}
    assert pair[0] != pair[1] and "answer" not in pair[0] + pair[1] and "generations" not in pair[0] + pair[1]
    if "qlora" in str(path):
        assert pair[2] == "gpt-4"
    else:
        assert pair[2] == path.parent.name.removeprefix("ratings-")
    assert all(v.position_known and v.answer_a and v.answer_b for v in verdicts)


@needs_data
def test_prd_llm_judges_answer_ids_belong_to_the_file_name_models():
    owner = {
        a.external_id: path.stem.removeprefix("answer_")
        for path in PRD_GENERATIONS
        for a in rows("answers", "fastchat", path)
    }
    verdicts = rows("verdicts", "threeclass", *PRD_LLM_RATINGS)
    assert len(PRD_LLM_RATINGS) == 102 and len(verdicts) == 8160
    assert all((owner[v.answer_a], owner[v.answer_b]) == (v.model_a, v.model_b) for v in verdicts)


@needs_data
@pytest.mark.parametrize("judge", sorted(PRD_JUDGE_COUNTS))
def test_prd_llm_judge_verdict_counts(judge):
    paths = [p for p in PRD_LLM_RATINGS if p.parent.name == judge and "answer-" not in p.name]
    first, second, tie = PRD_JUDGE_COUNTS[judge]
    assert len(paths) == 20
    assert winners(rows("verdicts", "threeclass", *paths)) == {
        "model_a": first,
        "model_b": second,
        "tie": tie,
    }


@needs_data
def test_qlora_pairwise_gpt4_tournament_keeps_13_unparsable_verdicts_as_none():
    verdicts = rows("verdicts", "threeclass", *QLORA_PAIRWISE)
    assert len(QLORA_PAIRWISE) == 56 and len(verdicts) == 4480
    assert winners(verdicts) == {"model_a": 2512, "model_b": 1355, "tie": 600, None: 13}
    errors = [v for v in verdicts if v.winner is None and v.raw_output == "error"]
    assert len(errors) == 8 and {(v.model_a, v.model_b) for v in errors} == {("7b-guanaco", "30b-guanaco")}


PRD_HUMAN = files("prd_vicuna80/ratings-human/*.jsonl")


@needs_data
@pytest.mark.parametrize("path", PRD_HUMAN, ids=ids(PRD_HUMAN))
def test_prd_human_votes_take_models_from_the_file_name(path):
    votes = rows("verdicts", "prd_human", path)
    claude = "answer_claude-vs-" in path.name
    assert len(votes) == 80 if claude else 99 <= len(votes) <= 141
    (pair,) = {(v.model_a, v.model_b) for v in votes}
    assert pair == pair_from_filename(path)[:2]
    assert all(v.rater is None and v.position_known and v.prompt_text for v in votes)


@needs_data
def test_prd_human_votes_total_7040_with_804_ties():
    votes = rows("verdicts", "prd_human", *PRD_HUMAN)
    assert len(PRD_HUMAN) == 60 and len(votes) == 7040
    assert winners(votes) == {"model_a": 3010 + 201, "model_b": 2945 + 80, "tie": 804}
    pair = Counter(frozenset((v.model_a, v.model_b)) for v in votes)
    assert pair[frozenset(("bard", "gpt35"))] == 240 and pair[frozenset(("claude", "gpt4"))] == 80


@needs_data
def test_alpaca_eval_gpt4_annotations():
    verdicts = rows(
        "verdicts",
        "alpaca_eval",
        DATASETS / "alpaca_eval/results/alpaca-7b/alpaca_eval_gpt4/annotations.json",
    )
    assert len(verdicts) == 805
    assert winners(verdicts) == {"model_a": 584, "model_b": 205, "tie": 16}
    assert {(v.model_a, v.model_b, v.rater) for v in verdicts} == {
        ("text_davinci_003", "alpaca-7b", "alpaca_eval_gpt4")
    }
    assert not any(v.position_known for v in verdicts)


@needs_data
def test_alpaca_eval_weighted_annotations_discretise_like_the_discrete_win_rate():
    path = DATASETS / "alpaca_eval/results/alpaca-7b/weighted_alpaca_eval_gpt4_turbo/annotations.json"
    verdicts = rows("verdicts", "alpaca_eval", path)
    assert winners(verdicts) == {"model_a": 785, "model_b": 17, "tie": 3}
    # (17 + 0.5 * 3) / 805 = 2.298 %, the leaderboard's discrete_win_rate for alpaca-7b.
    assert round(100 * (17 + 1.5) / len(verdicts), 3) == 2.298


# =========================================================================== semantics


def test_mtbench_pair_yields_both_orders_with_the_model_shown_first_as_model_a():
    verdicts = rows("verdicts", "mtbench_pair", FIXTURES / "gpt-4_pair_sample.jsonl")
    assert [(v.line, v.judged_order, v.model_a, v.model_b, v.winner) for v in verdicts] == [
        (1, 1, "alpaca-13b", "gpt-4", "model_b"),  # g1: model_2 = gpt-4 won, shown second
        (1, 2, "gpt-4", "alpaca-13b", "model_a"),  # g2: model_2 = gpt-4 won, now shown first
        (2, 1, "claude-v1", "gpt-3.5-turbo", "model_a"),
        (2, 2, "gpt-3.5-turbo", "claude-v1", "model_a"),  # position bias: the first shown won both
        (3, 1, "alpaca-13b", "gpt-4", "tie"),
        (3, 2, "gpt-4", "alpaca-13b", None),  # "error": kept, never a tie
    ]
    assert verdicts[0].raw_output.endswith("[[B]]") and verdicts[1].raw_output.endswith("[[A]]")
    assert {v.rater for v in verdicts} == {"gpt-4"}
    assert verdicts[2].metadata == {"judge_prompt": "pair-math-v1"}
    assert [v.turn for v in verdicts] == [1, 1, 1, 1, 2, 2]


def test_fastchat_review_scores_decide_the_winner(tmp_path):
    path = tmp_path / "review_a_b.jsonl"
    lines = [
        {
            "question_id": 1,
            "answer1_id": "x",
            "answer2_id": "y",
            "score": [9, 8.5],
            "text": "9 8.5",
            "reviewer_id": 1,
        },
        {
            "question_id": 2,
            "answer1_id": "x",
            "answer2_id": "y",
            "score": [7.0, 7],
            "text": "7 7",
            "reviewer_id": "g",
        },
        {
            "question_id": 3,
            "answer1_id": "x",
            "answer2_id": "y",
            "score": [-1, -1],
            "text": "?",
            "reviewer_id": 2,
        },
        {"question_id": 4, "answer1_id": "x", "answer2_id": "y", "score": [2, 10], "text": "2 10"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert [v.winner for v in parse("verdicts", "fastchat_review", path)] == [
        "model_a",
        "tie",
        None,
        "model_b",
    ]


@pytest.mark.parametrize(
    ("preference", "winner"),
    [(1, "model_a"), (2, "model_b"), (0, "tie"), (1.5, "tie"), (1.2, "model_a"), (1.50001, "model_b"),
     (1.99999, "model_b"), (None, None), (float("nan"), None)],
)  # fmt: skip
def test_alpaca_eval_preference_values(preference, winner):
    assert preference_winner(preference, "annotations.json", 1) == winner


def test_file_names_give_models_and_judge_and_an_odd_name_asks_for_them(tmp_path):
    assert pair_from_filename("ratings-vicuna-13b/answer_bard-vs-answer_vicuna-13b-vicuna-13b-reviewer.jsonl") == (
        "bard", "vicuna-13b", "vicuna-13b"
    )  # fmt: skip
    assert pair_from_filename(
        "pairwise/answer-gpt4-vs-65b-guanaco-vicuna-generations-topp0.9-temp0.7-gpt-4-reviewer-threeclass.jsonl"
    ) == ("gpt4", "65b-guanaco", "gpt-4")
    odd = tmp_path / "gpt4_votes.jsonl"
    odd.write_text('{"question_id": 1, "answer1_id": "x", "answer2_id": "y", "score": 2, "text": "2"}\n')
    with pytest.raises(ImportFormatError) as exc:
        list(parse("verdicts", "threeclass", odd))
    assert (exc.value.file, exc.value.line, exc.value.field) == (str(odd), None, "file name")
    (row,) = parse("verdicts", "threeclass", odd, model_a="bard", model_b="gpt4", rater="gpt-4")
    assert (row.model_a, row.model_b, row.rater, row.winner) == ("bard", "gpt4", "gpt-4", "model_b")


def test_generic_verdicts_put_the_first_shown_model_in_model_a(tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_text(
        '{"model_a": "x", "model_b": "y", "winner": "model_a", "first_shown": "model_b", "prompt_id": 7}\n'
        '{"model_a": "x", "model_b": "y", "winner": "tie (bothbad)", "judge": "ann"}\n'
        '{"model_a": "x", "model_b": "y", "winner": null, "question_id": "q9", "turn": 2}\n'
    )
    a, b, c = parse("verdicts", "jsonl", path)
    assert (a.model_a, a.model_b, a.winner, a.position_known, a.prompt) == ("y", "x", "model_b", True, "7")
    assert (b.winner, b.position_known, b.rater) == ("both_bad", False, "ann")
    assert (c.winner, c.prompt, c.turn) == (None, "q9", 2)


def test_generic_answers_accept_turns_or_one_answer_and_csv_with_multiline_cells(tmp_path):
    jsonl = tmp_path / "answers.jsonl"
    jsonl.write_text(
        '{"prompt_id": "81", "model": "mine", "turns": ["one", "two"]}\n'
        '{"question_id": 82, "contender": "mine", "answer": "only"}\n'
    )
    assert [(a.prompt, a.contender, a.turns) for a in parse("answers", "jsonl", jsonl)] == [
        ("81", "mine", ("one", "two")), ("82", "mine", ("only",))
    ]  # fmt: skip
    table = tmp_path / "answers.csv"
    table.write_text('prompt_id,turn_1,turn_2\n81,"line 1\nline 2",second\n82,only one,\n', encoding="utf-8")
    got = [(a.line, a.prompt, a.contender, a.turns) for a in parse("answers", "csv", table, contender="mine")]
    assert got == [(2, "81", "mine", ("line 1\nline 2", "second")), (4, "82", "mine", ("only one",))]


# =========================================================================== round trip


@needs_data
@pytest.mark.parametrize("jsonl", [True, False], ids=["jsonl", "json-list"])
@pytest.mark.parametrize(
    "source",
    [
        "mt_bench/human_judgments/human_judgments_turn1.jsonl",
        "mt_bench/model_judgment/gpt-4_pair_partial.jsonl",
    ],
)
def test_fastchat_battles_round_trip_exactly(tmp_path, source, jsonl):
    original = rows("verdicts", "fastchat", DATASETS / source)
    out = tmp_path / ("battles.jsonl" if jsonl else "battles.json")
    with out.open("w", encoding="utf-8") as fp:
        assert write_fastchat_battles(original, fp, jsonl=jsonl) == len(original)
    assert rows("verdicts", "fastchat", out) == original  # line numbers included


@pytest.mark.parametrize("jsonl", [True, False], ids=["jsonl", "json-list"])
def test_a_chatbot_arena_json_list_round_trips_and_none_fields_are_left_out(tmp_path, jsonl):
    battles = [
        {"model_a": "vicuna-13b", "model_b": "koala-13b", "winner": "model_a", "judge": "arena_user_1", "turn": 1,
         "anony": True, "language": "English", "tstamp": 1682351591.1322},
        {"model_a": "koala-13b", "model_b": "alpaca-13b", "winner": "tie (bothbad)", "judge": "arena_user_2",
         "turn": 2, "tstamp": 1682351600.5, "question_id": "4c3e1e0fa2b34ad6a1e2b6c8d5a9e7f1"},
        {"model_a": "gpt-4", "model_b": "claude-v1", "winner": "tie", "question_id": 81},
    ]  # fmt: skip
    source = tmp_path / "clean_battle_20230522.json"
    source.write_text(json.dumps(battles, indent=1))
    original = rows("verdicts", "fastchat", source)
    assert [v.winner for v in original] == ["model_a", "both_bad", "tie"]
    buffer = io.StringIO()
    write_fastchat_battles([dataclasses.asdict(v) for v in original], buffer, jsonl=jsonl)
    written = buffer.getvalue()
    records = [json.loads(x) for x in written.splitlines()] if jsonl else json.loads(written)
    assert records[2] == {
        "model_a": "gpt-4",
        "model_b": "claude-v1",
        "winner": "tie",
        "question_id": 81,
        "turn": 1,
    }
    out = tmp_path / "again.json"
    out.write_text(written)
    again = rows("verdicts", "fastchat", out)
    # The indented source puts records on other lines; everything else is identical.
    assert [dataclasses.replace(v, line=0) for v in again] == [
        dataclasses.replace(v, line=0) for v in original
    ]


def test_writing_a_verdict_fastchat_cannot_express_fails_loudly():
    with pytest.raises(ValueError, match="winner None"):
        write_fastchat_battles([{"model_a": "a", "model_b": "b", "winner": None}], io.StringIO(), jsonl=True)
    with pytest.raises(ValueError, match="model_a and model_b"):
        write_fastchat_battles(
            [VerdictRow(line=1, model_a=None, model_b=None, winner="tie")], io.StringIO(), jsonl=True
        )


# =========================================================================== malformed files
#
# One valid generated record per format; each test breaks one record and checks that the
# error names the file, the line that record starts on, and the field.

TEXT = 'Line one\nline two, with a comma and a "quote"'


@dataclasses.dataclass(frozen=True)
class Spec:
    kind: str
    fmt: str
    filename: str
    layout: str  # jsonl | array | csv
    record: Callable[[int, str], dict[str, Any]]  # (index, text) -> a valid record
    text_field: str  # top-level field that holds the text (named by a UTF-8 error)
    cut_field: str  # innermost key a file cut inside the text is reported under
    missing: str  # required field; removed (CSV: emptied)
    bad: tuple[str, Any, str]  # (field, value outside the allowed set, field named)
    wrong: tuple[str, Any, str]  # (field, value of the wrong type, field named)

    def __str__(self) -> str:
        return f"{self.kind}-{self.fmt}-{self.layout}"


def _battle(i: int, text: str) -> dict[str, Any]:
    return {"model_a": "gpt-4", "model_b": "vicuna-13b", "winner": "model_a", "judge": text, "turn": 1,
            "tstamp": 1682351591.5 + i, "question_id": f"q{i}"}  # fmt: skip


SPECS = [
    Spec("prompts", "vicuna80", "question.jsonl", "jsonl",
         lambda i, t: {"question_id": i + 1, "category": "generic", "turns": [t]},
         "turns", "turns", "category", ("question_id", " ", "question_id"), ("turns", "a string", "turns")),
    Spec("prompts", "mt_bench", "question.jsonl", "jsonl",
         lambda i, t: {"question_id": 81 + i, "category": "writing", "turns": [t, "Rewrite it."],
                       "reference": ["r1", "r2"]},
         "turns", "turns", "turns", ("turns", [], "turns"), ("reference", "r1", "reference")),
    Spec("prompts", "user_oriented_252", "user_oriented_instructions.jsonl", "jsonl",
         lambda i, t: {"id": f"user_oriented_task_{i}", "motivation_app": "Gmail", "instruction": t,
                       "instances": [{"input": "", "output": "Dear team, ..."}]},
         "instruction", "instruction", "motivation_app", ("instances", [], "instances"),
         ("instances", [{"input": 7, "output": "o"}], "instances[0].input")),
    Spec("answers", "fastchat", "model_answer/my-model.jsonl", "jsonl",
         lambda i, t: {"question_id": 81 + i, "answer_id": f"ans{i}", "model_id": "my-model",
                       "choices": [{"index": 0, "turns": [t, "second"]}], "tstamp": 1687000000.5},
         "choices", "turns", "question_id", ("choices", [], "choices"),
         ("choices", [{"index": 0, "turns": "one string"}], "choices[0].turns")),
    Spec("answers", "qlora", "13b-guanaco-vicuna-generations-topp0.9-temp0.7.jsonl", "jsonl",
         lambda i, t: {"question_id": i + 1, "text": "Q?", "category": "generic", "prompt": "### Human: Q?",
                       "generation": "raw", "generation_truncated": t},
         "generation_truncated", "generation_truncated", "generation_truncated", ("question_id", "", "question_id"),
         ("generation", 5, "generation")),
    Spec("answers", "self_instruct", "davinci_predictions.jsonl", "jsonl",
         lambda i, t: {"prompt": "Do it.\nOutput:", "instruction": "Do it.", "input": "", "response": t, "target": "t"},
         "response", "response", "instruction", ("instruction", "  ", "instruction"), ("response", ["x"], "response")),
    Spec("answers", "alpaca_eval", "model_outputs.json", "array",
         lambda i, t: {"instruction": f"Instruction {i}", "output": t, "generator": "my-model", "dataset": "koala"},
         "output", "output", "instruction", ("generator", "", "generator"), ("output", {"text": "x"}, "output")),
    Spec("answers", "jsonl", "answers.jsonl", "jsonl",
         lambda i, t: {"prompt_id": str(i), "model": "my-model", "turns": [t]},
         "turns", "turns", "turns", ("turns", [], "turns"), ("prompt_id", 1.5, "prompt_id")),
    Spec("answers", "csv", "answers.csv", "csv",
         lambda i, t: {"prompt_id": str(i), "model": "my-model", "turn_1": t, "turn_2": "second"},
         "turn_1", "turn_1", "prompt_id", ("turn_1", "", "turn_1"), ("model", "   ", "model")),
    Spec("verdicts", "fastchat", "battles.jsonl", "jsonl", _battle,
         "judge", "judge", "winner", ("winner", "model_c", "winner"), ("turn", "1", "turn")),
    Spec("verdicts", "fastchat", "clean_battle.json", "array", _battle,
         "judge", "judge", "model_b", ("winner", "bothbad", "winner"), ("tstamp", "noon", "tstamp")),
    Spec("verdicts", "mtbench_human", "human_judgments.jsonl", "jsonl",
         lambda i, t: {"question_id": 81 + i % 80, "judge": t, "model_a": "gpt-4", "model_b": "claude-v1",
                       "winner": "tie", "turn": 2},
         "judge", "judge", "question_id", ("winner", "draw", "winner"), ("question_id", 81.0, "question_id")),
    Spec("verdicts", "mtbench_pair", "gpt-4_pair.jsonl", "jsonl",
         lambda i, t: {"question_id": 81 + i % 80, "model_1": "alpaca-13b", "model_2": "gpt-4", "g1_winner": "model_2",
                       "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "[User Question] ...",
                       "g1_judgment": t, "g2_user_prompt": "[User Question] ...", "g2_judgment": "[[C]]", "turn": 1,
                       "tstamp": 1687221521.43},
         "g1_judgment", "g1_judgment", "g2_winner", ("g1_winner", "A", "g1_winner"), ("judge", 4, "judge")),
    Spec("verdicts", "fastchat_review", "review_alpaca-13b_vicuna-13b.jsonl", "jsonl",
         lambda i, t: {"review_id": f"r{i}", "question_id": i % 80 + 1, "answer1_id": "a1", "answer2_id": "a2",
                       "text": t, "score": [8, 9.5], "reviewer_id": 1, "metadata": {}},
         "text", "text", "answer2_id", ("score", [8, -3], "score[1]"), ("score", "8 9", "score")),
    Spec("verdicts", "threeclass", "ratings-gpt4/answer_alpha-vs-answer_beta-gpt4-reviewer_threeclass.jsonl", "jsonl",
         lambda i, t: {"review_id": f"r{i}", "question_id": i % 80 + 1, "answer1_id": "a1", "answer2_id": "a2",
                       "reviewer_id": 1, "metadata": {}, "text": t, "score": 1},
         "text", "text", "score", ("score", 4, "score"), ("score", "1", "score")),
    Spec("verdicts", "prd_human", "ratings-human/answer_alpha-vs-answer_beta-human-reviewer_threeclass.jsonl", "jsonl",
         lambda i, t: {"question_id": i % 80 + 1, "text": t, "score": 2},
         "text", "text", "score", ("score", -1, "score"), ("question_id", [1], "question_id")),
    Spec("verdicts", "alpaca_eval", "annotations.json", "array",
         lambda i, t: {"instruction": t, "output_1": "o1", "generator_1": "base", "dataset": "koala", "output_2": "o2",
                       "generator_2": "mine", "annotator": "alpaca_eval_gpt4", "preference": 1.7},
         "instruction", "instruction", "generator_2", ("preference", 2.5, "preference"),
         ("preference", "1", "preference")),
    Spec("verdicts", "jsonl", "verdicts.jsonl", "jsonl",
         lambda i, t: {"model_a": "a", "model_b": "b", "winner": "both_bad", "prompt_id": str(i), "prompt_text": t,
                       "rater": "alice"},
         "prompt_text", "prompt_text", "model_b", ("winner", "draw", "winner"), ("tstamp", "yesterday", "tstamp")),
    Spec("verdicts", "csv", "verdicts.csv", "csv",
         lambda i, t: {"model_a": "a", "model_b": "b", "winner": "tie", "prompt_id": str(i), "prompt_text": t,
                       "turn": "1", "rater": "bob"},
         "prompt_text", "prompt_text", "winner", ("winner", "draw", "winner"), ("turn", "one", "turn")),
]  # fmt: skip


def test_every_format_has_a_malformed_file_spec():
    covered = {(s.kind, s.fmt) for s in SPECS}
    expected = {(k, f) for k, reg in (("prompts", PROMPT_FORMATS), ("answers", ANSWER_FORMATS),
                                      ("verdicts", VERDICT_FORMATS)) for f in reg}  # fmt: skip
    assert covered == expected


def write(spec: Spec, path: Path, records: list[dict[str, Any]]) -> tuple[list[int], bytes]:
    """Write records in the spec's layout; return each record's first line and the bytes.

    The text ``@BAD@`` becomes two bytes that are not UTF-8.
    """
    starts: list[int] = []
    if spec.layout == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        starts = list(range(1, len(records) + 1))
    elif spec.layout == "array":  # pretty-printed like AlpacaEval's files
        parts, line = ["[\n"], 2
        for i, r in enumerate(records):
            chunk = json.dumps(r, indent=2, ensure_ascii=False)
            starts.append(line)
            parts.append(chunk + (",\n" if i < len(records) - 1 else "\n"))
            line += chunk.count("\n") + 1
        text = "".join(parts) + "]\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(list(records[0]))
        line = 2
        for r in records:
            starts.append(line)
            before = buffer.tell()
            writer.writerow(list(r.values()))
            line += buffer.getvalue()[before:].count("\n")
        text = buffer.getvalue()
    data = text.encode("utf-8").replace(b"@BAD@", b"\xff\xfe")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return starts, data


def make(spec: Spec, tmp_path: Path, n: int, edit: Callable[[int, dict[str, Any]], None] | None = None):
    records = [spec.record(i, TEXT) for i in range(n)]
    if edit:
        for i, r in enumerate(records):
            edit(i, r)
    path = tmp_path / spec.filename
    starts, data = write(spec, path, records)
    return path, starts, data


def refused(spec: Spec, path: Path) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as exc:
        list(parse(spec.kind, spec.fmt, path))
    return exc.value


def assert_names(err: ImportFormatError, path: Path, line: int, field: str | None) -> None:
    assert (err.file, err.line, err.field) == (str(path), line, field), str(err)
    message = str(err)
    assert message.startswith(f"{path}, line {line}: ")
    if field:
        assert f"field '{field}'" in message


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_a_valid_generated_file_parses_with_the_line_of_each_record(spec, tmp_path):
    path, starts, _ = make(spec, tmp_path, 30)
    got = [row.line for row in parse(spec.kind, spec.fmt, path)]
    per_record = 2 if spec.fmt == "mtbench_pair" else 1
    assert got == [line for line in starts for _ in range(per_record)]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_a_missing_field_is_named_with_its_line(spec, tmp_path):
    def drop(i, r):
        if i == 17:
            if spec.layout == "csv":
                r[spec.missing] = ""
            else:
                del r[spec.missing]

    path, starts, _ = make(spec, tmp_path, 30, drop)
    assert_names(refused(spec, path), path, starts[17], spec.missing)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_a_value_outside_the_allowed_set_is_named_with_its_line(spec, tmp_path):
    field, value, named = spec.bad
    path, starts, _ = make(spec, tmp_path, 30, lambda i, r: r.update({field: value}) if i == 17 else None)
    assert_names(refused(spec, path), path, starts[17], named)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_a_value_of_the_wrong_type_is_named_with_its_line(spec, tmp_path):
    field, value, named = spec.wrong
    path, starts, _ = make(spec, tmp_path, 30, lambda i, r: r.update({field: value}) if i == 17 else None)
    assert_names(refused(spec, path), path, starts[17], named)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_bytes_that_are_not_utf8_are_named_with_their_line_and_field(spec, tmp_path):
    def poison(i, r):
        if i == 17:
            replacement = spec.record(i, "@BAD@ " + TEXT)
            r.clear()
            r.update(replacement)

    path, _, data = make(spec, tmp_path, 30, poison)
    line = data[: data.index(b"\xff\xfe")].count(b"\n") + 1
    err = refused(spec, path)
    assert_names(err, path, line, spec.text_field)
    assert "not valid UTF-8" in str(err)


@pytest.mark.parametrize("multiline", [False, True], ids=["one-line-text", "multi-line-text"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_a_file_cut_off_inside_the_last_record_is_refused_at_that_record(spec, tmp_path, multiline):
    # In CSV a multi-line text is a quoted cell, so the cut leaves a quote open.
    long = "START " + "words " * 40 + ("\nmore words" if multiline else "")
    path, starts, data = make(
        spec, tmp_path, 30, lambda i, r: r.update(spec.record(i, long)) if i == 29 else None
    )
    cut = data.rindex(b"START") + 60
    path.write_bytes(data[:cut])
    # JSON errors point at the line where the text breaks off; CSV at the record's first line.
    line = starts[-1] if spec.layout == "csv" else data[:cut].count(b"\n") + 1
    err = refused(spec, path)
    assert_names(err, path, line, spec.cut_field)
    assert "cut off" in str(err)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_an_empty_file_is_refused(spec, tmp_path):
    path = tmp_path / spec.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    err = refused(spec, path)
    assert_names(err, path, 1, None)
    assert "empty" in str(err)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_one_bad_line_deep_in_a_large_file_is_found_at_its_exact_line(spec, tmp_path):
    field, value, named = spec.bad
    path, starts, _ = make(
        spec, tmp_path, 12_000, lambda i, r: r.update({field: value}) if i == 9_876 else None
    )
    assert_names(refused(spec, path), path, starts[9_876], named)


def test_a_json_list_without_its_closing_bracket_or_with_junk_after_it_is_refused(tmp_path):
    path = tmp_path / "clean_battle.json"
    complete = json.dumps([_battle(i, "u") for i in range(3)], indent=2)
    path.write_text(complete[: complete.rindex("]")])
    err = refused(SPECS[10], path)
    assert (err.line, "not closed" in err.message) == (complete.count("\n") + 1, True)
    path.write_text(complete + "\n{}\n")
    err = refused(SPECS[10], path)
    assert (err.line, err.message) == (complete.count("\n") + 2, "unexpected content after the JSON array")
    path.write_text("[]")
    assert "empty" in refused(SPECS[10], path).message


def test_json_lines_that_are_not_objects_or_bad_json_mid_file_are_named(tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_text('{"model_a": "a", "model_b": "b", "winner": "tie"}\n["a", "b", "tie"]\n')
    assert (refused(SPECS[9], path).line, refused(SPECS[9], path).message) == (
        2,
        "expected a JSON object, got array",
    )
    path.write_text('{"model_a": "a", "model_b": "b", "winner": "tie"}\n{"model_a": "a" "model_b": "b"}\n')
    err = refused(SPECS[9], path)
    assert (err.line, err.field) == (2, "model_a") and "invalid JSON" in err.message


def test_a_blank_line_and_a_bom_do_not_shift_line_numbers(tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"model_a": "a", "model_b": "b", "winner": "tie"}\n\n{"model_a": "a", "model_b": "b", "winner": 1}\n'
    )
    err = refused(SPECS[9], path)
    assert (err.line, err.field) == (3, "winner")


def test_prompt_and_answer_rows_are_the_contract_types(tmp_path):
    spec = SPECS[0]
    path, _, _ = make(spec, tmp_path, 2)
    assert all(isinstance(r, PromptRow) for r in parse("prompts", "vicuna80", path))
    path, _, _ = make(SPECS[7], tmp_path, 2)
    assert all(isinstance(r, AnswerRow) for r in parse("answers", "jsonl", path))


def test_a_reference_for_a_question_the_set_lacks_or_a_repeated_question_is_refused(tmp_path):
    questions = tmp_path / "question.jsonl"
    questions.write_text('{"question_id": 1, "category": "math", "turns": ["2+2?"]}\n')
    refs = tmp_path / "gpt-4.jsonl"
    refs.write_text(
        '{"question_id": 1, "choices": [{"index": 0, "turns": ["4"]}]}\n'
        '{"question_id": 9, "choices": [{"index": 0, "turns": ["?"]}]}\n'
    )
    with pytest.raises(ImportFormatError) as exc:
        list(parse("prompts", "mt_bench", questions, references=refs))
    assert (exc.value.file, exc.value.line, exc.value.field) == (str(refs), 2, "question_id")
    questions.write_text(questions.read_text() * 2)
    with pytest.raises(ImportFormatError, match="duplicate question id 1 \\(first on line 1\\)") as exc:
        list(parse("prompts", "vicuna80", questions))
    assert (exc.value.line, exc.value.field) == (2, "question_id")
