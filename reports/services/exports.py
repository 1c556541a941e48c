"""Writing battles back out: FastChat's battle records, every verdict with its texts (JSONL), and
FastChat's ``llm_judge`` folder layout of answers and judgments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arena.ratings.types import Battle

_FASTCHAT_WINNER = {"model_a": "model_a", "model_b": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}


def battle_to_fastchat(battle: Battle) -> dict[str, Any]:
    """One battle as a FastChat battle record (``judge`` is the rater; None fields are omitted)."""
    record: dict[str, Any] = {
        "model_a": battle.model_a,
        "model_b": battle.model_b,
        "winner": _FASTCHAT_WINNER[battle.winner],
        "question_id": battle.prompt,
        "turn": battle.turn,
        "judge": battle.rater,
        "tstamp": battle.tstamp,
    }
    if record["question_id"] is not None and str(record["question_id"]).isdigit():
        record["question_id"] = int(record["question_id"])
    return record


# --------------------------------------------------------------------------- everything, as JSONL

_PAIR_WINNER = {"model_a": "model_1", "model_b": "model_2", "tie": "tie", "both_bad": "tie"}


def _qid(external_id: str) -> int | str:
    return int(external_id) if external_id.isdigit() else external_id


def _prompt_fields(prompt: Any, turn: int) -> dict[str, Any]:
    return {
        "prompt_set": prompt.prompt_set.slug,
        "prompt_set_version": prompt.first_version,
        "question_id": prompt.external_id,
        "category": prompt.category,
        "turn": turn,
        "question": list(prompt.turns[:turn]),
        "reference": list(prompt.references[:turn]),
    }


def verdict_records(
    *, source: str = "all", prompt_set: str | None = None, category: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every verdict with what the rating columns leave out: the prompt and both answers' texts,
    grades, helpful/honest/harmless, the comment, the turn and the presentation order (``order``
    1: the comparison's answer A was shown first; ``winner`` names the comparison's answers).
    One record per human vote, per judgment order, per imported verdict."""
    from arena.models import ImportedVerdict, Vote
    from judge.models import Judgment  # judge depends on arena, not the other way round
    from reports.selectors.battles import BattleFilter, filter_prompts, parse_source

    kind, name = parse_source(source)
    flt = BattleFilter(source, prompt_set, category)
    comparison_related = (
        "comparison__prompt__prompt_set",
        "comparison__answer_a__contender",
        "comparison__answer_b__contender",
    )
    if kind in ("all", "human"):
        votes = filter_prompts(
            Vote.objects.select_related("rater", *comparison_related), flt, "comparison__prompt"
        )
        for vote in votes.order_by("created_at", "id").iterator(chunk_size=500):
            comp = vote.comparison
            yield {
                "source": "human",
                "model_a": comp.answer_a.contender.name,
                "model_b": comp.answer_b.contender.name,
                **_prompt_fields(comp.prompt, comp.turn),
                "answer_a": comp.answer_a.turns[: comp.turn],
                "answer_b": comp.answer_b.turns[: comp.turn],
                "order": 1 if vote.a_shown_first else 2,
                "winner": vote.winner,
                "grade_a": vote.grade_a or None,
                "grade_b": vote.grade_b or None,
                "helpful": vote.helpful or None,
                "honest": vote.honest or None,
                "harmless": vote.harmless or None,
                "comment": vote.comment,
                "rater": vote.rater.get_username(),
                "version": vote.version,
                "tstamp": vote.created_at.timestamp(),
                "comparison_id": comp.pk,
            }
    if kind in ("all", "judge", "panel"):
        judgments = Judgment.objects.filter(
            status=Judgment.Status.DONE, comparison__isnull=False
        ).select_related("run__judge", *comparison_related)
        if kind == "judge":
            judgments = judgments.filter(run__judge__name=name)
        elif kind == "panel":
            judgments = judgments.filter(run__judge__panels__name=name)
        judgments = filter_prompts(judgments, flt, "comparison__prompt")
        for j in judgments.order_by("completed_at", "id").iterator(chunk_size=500):
            comp = j.comparison
            assert comp is not None  # comparison__isnull=False
            yield {
                "source": f"judge:{j.run.judge.name}",
                "model_a": comp.answer_a.contender.name,
                "model_b": comp.answer_b.contender.name,
                **_prompt_fields(comp.prompt, j.turn),
                "answer_a": comp.answer_a.turns[: j.turn],
                "answer_b": comp.answer_b.turns[: j.turn],
                "order": j.order,
                "mode": j.run.mode,
                "winner": j.winner or None,
                "grade": j.grade or None,
                "hhh": j.hhh or None,
                "preference": j.preference,
                "strong": j.strong,
                "judgment": j.raw_output,
                "rater": j.run.judge.name,
                "run_id": j.run_id,
                "tstamp": j.completed_at.timestamp() if j.completed_at else None,
                "comparison_id": comp.pk,
            }
    if kind in ("all", "import"):
        verdicts = ImportedVerdict.objects.select_related(
            "source", "model_a", "model_b", "prompt__prompt_set"
        )
        if name:
            verdicts = verdicts.filter(source__name=name)
        if prompt_set or category:
            verdicts = filter_prompts(verdicts, flt, "prompt")
        for v in verdicts.order_by("batch_id", "line", "judged_order").iterator(chunk_size=500):
            record: dict[str, Any] = {
                "source": f"import:{v.source.name}",
                "model_a": v.model_a.name,
                "model_b": v.model_b.name,
            }
            if v.prompt is not None:
                record.update(_prompt_fields(v.prompt, v.turn))
            else:
                record.update(question_id=v.question_ref or None, turn=v.turn)
            record.update(
                order=(1 if v.position_known else None),
                judged_order=v.judged_order or None,
                winner=v.winner or None,
                judgment=v.raw_output or None,
                rater=v.rater or None,
                tstamp=v.tstamp,
            )
            yield record


# --------------------------------------------------------------------------- FastChat llm_judge layout


def llm_judge_export(*, folder: Path, prompt_set: str, judge: str | None = None) -> dict[str, int]:
    """Write ``prompt_set``'s answers and judgments as FastChat's ``llm_judge`` does, so its own
    scripts (``show_result.py``) read them: ``question.jsonl``, ``model_answer/<model>.jsonl``,
    ``model_judgment/<judge>_pair.jsonl`` (both orders of a comparison on one line, ``g1`` with
    ``model_1`` first) and ``<judge>_single.jsonl``. Returns the lines written per file."""
    from arena.models import Answer, Prompt, PromptSet
    from judge.models import JudgeRun, Judgment

    pset = PromptSet.objects.get(slug=prompt_set)
    written: dict[str, int] = {}
    (folder / "model_answer").mkdir(parents=True, exist_ok=True)
    (folder / "model_judgment").mkdir(parents=True, exist_ok=True)

    def dump(relative: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with (folder / relative).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        written[relative] = len(rows)

    prompts = Prompt.objects.current().filter(prompt_set=pset).order_by("position", "id")
    dump(
        "question.jsonl",
        [
            {
                "question_id": _qid(p.external_id),
                "category": p.category,
                "turns": p.turns,
                **({"reference": p.references} if p.references else {}),
            }
            for p in prompts
        ],
    )
    by_model: dict[str, list[dict[str, Any]]] = {}
    answers = Answer.objects.filter(prompt__in=prompts).select_related("contender", "prompt")
    for a in answers.order_by("contender__name", "prompt__position", "prompt_id"):
        by_model.setdefault(a.contender.name, []).append(
            {
                "question_id": _qid(a.prompt.external_id),
                "answer_id": a.external_id or f"arena-{a.pk}",
                "model_id": a.contender.name,
                "choices": [{"index": 0, "turns": a.turns}],
                "tstamp": a.created_at.timestamp(),
            }
        )
    for model, rows in by_model.items():
        dump(f"model_answer/{_file_name(model)}.jsonl", rows)

    judgments = Judgment.objects.filter(
        status__in=[Judgment.Status.DONE, Judgment.Status.UNPARSED], run__prompt_set=pset
    )
    if judge:
        judgments = judgments.filter(run__judge__name=judge)
    judgments = judgments.select_related(
        "run__judge",
        "comparison__prompt",
        "comparison__answer_a__contender",
        "comparison__answer_b__contender",
        "answer__prompt",
        "answer__contender",
    )
    pairs: dict[tuple[str, int, int, int], dict[int, Any]] = {}
    single: dict[str, list[dict[str, Any]]] = {}
    for j in judgments.order_by("run_id", "id"):
        judge_name = j.run.judge.name
        if j.run.mode == JudgeRun.Mode.SINGLE and j.answer is not None:  # select_related: no query
            single.setdefault(judge_name, []).append(
                {
                    "question_id": _qid(j.answer.prompt.external_id),
                    "model": j.answer.contender.name,
                    "judge": [judge_name, f"{j.run.judge.template_set}/single"],
                    "user_prompt": "",
                    "judgment": j.raw_output,
                    "score": j.score if j.score is not None else -1,
                    "turn": j.turn,
                    "tstamp": j.completed_at.timestamp() if j.completed_at else None,
                }
            )
        elif j.run.mode == JudgeRun.Mode.PAIRWISE and j.comparison_id:
            pairs.setdefault((judge_name, j.run_id, j.comparison_id, j.turn), {})[j.order] = j
    pair_rows: dict[str, list[dict[str, Any]]] = {}
    for (judge_name, _run, _comp, turn), orders in pairs.items():
        if set(orders) != {1, 2}:
            continue  # one order only: FastChat's pair lines hold both
        g1, g2 = orders[1], orders[2]
        comp = g1.comparison
        pair_rows.setdefault(judge_name, []).append(
            {
                "question_id": _qid(comp.prompt.external_id),
                "model_1": comp.answer_a.contender.name,
                "model_2": comp.answer_b.contender.name,
                "g1_winner": _PAIR_WINNER.get(g1.winner, "error"),
                "g2_winner": _PAIR_WINNER.get(g2.winner, "error"),
                "judge": [judge_name, f"{g1.run.judge.template_set}/pairwise"],
                "g1_user_prompt": "",
                "g1_judgment": g1.raw_output,
                "g2_user_prompt": "",
                "g2_judgment": g2.raw_output,
                "turn": turn,
                "tstamp": max(x.completed_at.timestamp() if x.completed_at else 0.0 for x in (g1, g2)),
            }
        )
    for judge_name, rows in pair_rows.items():
        dump(f"model_judgment/{_file_name(judge_name)}_pair.jsonl", rows)
    for judge_name, rows in single.items():
        dump(f"model_judgment/{_file_name(judge_name)}_single.jsonl", rows)
    return written


def _file_name(name: str) -> str:
    """A model or judge name as a file name (FastChat uses the name itself)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "_"
