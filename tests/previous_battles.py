"""The battles reader as it was before it read columns (one ``Battle`` per row, built in Python),
kept as the reference ``test_battle_columns.py`` holds the columnar reader to."""

# ruff: noqa
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from arena.models import Answer, Contender, ImportedVerdict, Prompt, Vote
from arena.ratings.types import Battle, Position, StyleFeatures, Winner
from reports.selectors.battles import (
    HUMAN,
    IMPORT_PREFIX,
    JUDGE_PREFIX,
    BattleFilter,
    comparison_key,
    parse_source,
)


class _Lookups:
    """Names and prompt facts loaded once, so building a million battles stays a tight loop."""

    def __init__(self) -> None:
        self.contender_name: dict[int, str] = dict(Contender.objects.values_list("id", "name"))
        self.prompt_info: dict[int, tuple[str, str, str]] = {
            pid: (slug, ext, category)
            for pid, slug, ext, category in Prompt.objects.values_list(
                "id", "prompt_set__slug", "external_id", "category"
            )
        }
        self._answer_style: dict[int, list[list[int]]] | None = None
        self._answer_by_prompt_contender: dict[tuple[int, int], int] | None = None

    def _load_answers(self) -> None:
        self._answer_style = {}
        self._answer_by_prompt_contender = {}
        for aid, prompt_id, contender_id, style in Answer.objects.values_list(
            "id", "prompt_id", "contender_id", "style"
        ):
            self._answer_style[aid] = style or []
            self._answer_by_prompt_contender[(prompt_id, contender_id)] = aid

    def style(self, answer_id: int | None, turn: int) -> StyleFeatures | None:
        if answer_id is None:
            return None
        if self._answer_style is None:
            self._load_answers()
        assert self._answer_style is not None
        per_turn = self._answer_style.get(answer_id) or []
        if len(per_turn) < turn:
            return None
        return StyleFeatures(*per_turn[turn - 1])

    def answer_id(self, prompt_id: int | None, contender_id: int) -> int | None:
        if prompt_id is None:
            return None
        if self._answer_by_prompt_contender is None:
            self._load_answers()
        assert self._answer_by_prompt_contender is not None
        return self._answer_by_prompt_contender.get((prompt_id, contender_id))


def _filter_prompts(qs: QuerySet, flt: BattleFilter, prompt_field: str) -> QuerySet:
    if flt.prompt_set:
        qs = qs.filter(**{f"{prompt_field}__prompt_set__slug": flt.prompt_set})
    if flt.category:
        qs = qs.filter(**{f"{prompt_field}__category": flt.category})
    return qs


def _human_battles(flt: BattleFilter, look: _Lookups) -> Iterator[Battle]:
    qs = _filter_prompts(Vote.objects.all(), flt, "comparison__prompt")
    if flt.turn:
        qs = qs.filter(comparison__turn=flt.turn)
    rows = qs.order_by("created_at", "id").values_list(
        "winner",
        "a_shown_first",
        "rater_id",
        "created_at",
        "comparison__prompt_id",
        "comparison__turn",
        "comparison__answer_a_id",
        "comparison__answer_b_id",
        "comparison__answer_a__contender_id",
        "comparison__answer_b__contender_id",
    )
    for winner, a_first, rater_id, created, prompt_id, turn, ans_a, ans_b, con_a, con_b in rows.iterator(
        2000
    ):
        slug, ext, category = look.prompt_info[prompt_id]
        name_a, name_b = look.contender_name[con_a], look.contender_name[con_b]
        yield Battle(
            source=HUMAN,
            model_a=name_a,
            model_b=name_b,
            winner=winner,
            prompt_set=slug,
            prompt=ext,
            category=category,
            turn=turn,
            first_shown="model_a" if a_first else "model_b",
            comparison=comparison_key(slug, ext, turn, name_a, name_b),
            rater=f"user:{rater_id}",
            style_a=look.style(ans_a, turn),
            style_b=look.style(ans_b, turn),
            tstamp=created.timestamp(),
        )


def _judge_battles(flt: BattleFilter, look: _Lookups, judge_name: str | None) -> Iterator[Battle]:
    from judge.models import Judgment  # judge depends on arena, not the other way round

    qs = Judgment.objects.filter(status=Judgment.Status.DONE, comparison__isnull=False).exclude(winner="")
    if judge_name:
        qs = qs.filter(run__judge__name=judge_name)
    qs = _filter_prompts(qs, flt, "comparison__prompt")
    if flt.turn:
        qs = qs.filter(turn=flt.turn)
    rows = qs.order_by("completed_at", "id").values_list(
        "run_id",
        "run__judge__name",
        "run__inconsistent",
        "comparison_id",
        "order",
        "turn",
        "winner",
        "completed_at",
        "comparison__prompt_id",
        "comparison__answer_a_id",
        "comparison__answer_b_id",
        "comparison__answer_a__contender_id",
        "comparison__answer_b__contender_id",
    )
    pending: dict[tuple[int, int, int], str] = {}
    for (
        run_id,
        jname,
        inconsistent,
        comp_id,
        order,
        turn,
        winner,
        done_at,
        prompt_id,
        ans_a,
        ans_b,
        con_a,
        con_b,
    ) in rows.iterator(2000):
        if flt.per_order:
            result: Winner | None = winner
            first: Position | None = "model_a" if order == 1 else "model_b"
        else:
            key = (run_id, comp_id, turn)
            if key not in pending:
                pending[key] = winner
                continue
            first = None
            other = pending.pop(key)
            # Orders that disagree count as a tie or yield nothing, as the run was told.
            result = winner if other == winner else ("tie" if inconsistent == "tie" else None)
            if result is None:
                continue
        slug, ext, category = look.prompt_info[prompt_id]
        name_a, name_b = look.contender_name[con_a], look.contender_name[con_b]
        yield Battle(
            source=f"{JUDGE_PREFIX}{jname}",
            model_a=name_a,
            model_b=name_b,
            winner=result,
            prompt_set=slug,
            prompt=ext,
            category=category,
            turn=turn,
            first_shown=first,
            comparison=comparison_key(slug, ext, turn, name_a, name_b),
            rater=jname,
            style_a=look.style(ans_a, turn),
            style_b=look.style(ans_b, turn),
            tstamp=done_at.timestamp() if done_at else None,
        )


def _import_battles(flt: BattleFilter, look: _Lookups, source_name: str | None) -> Iterator[Battle]:
    qs = ImportedVerdict.objects.exclude(winner="")
    if source_name:
        qs = qs.filter(source__name=source_name)
    if flt.prompt_set or flt.category:
        qs = _filter_prompts(qs, flt, "prompt")
    if flt.turn:
        qs = qs.filter(turn=flt.turn)
    rows = qs.order_by("batch_id", "line", "judged_order").values_list(
        "source__name",
        "model_a_id",
        "model_b_id",
        "winner",
        "prompt_id",
        "question_ref",
        "turn",
        "position_known",
        "rater",
        "tstamp",
    )
    for name, con_a, con_b, winner, prompt_id, ref, turn, position_known, rater, tstamp in rows.iterator(
        5000
    ):
        name_a, name_b = look.contender_name[con_a], look.contender_name[con_b]
        slug = category = None
        ext = ref or None  # unlinked verdicts keep the source's own prompt id
        if prompt_id is not None:
            slug, ext, category = look.prompt_info[prompt_id]
        yield Battle(
            source=f"{IMPORT_PREFIX}{name}",
            model_a=name_a,
            model_b=name_b,
            winner=winner,
            prompt_set=slug,
            prompt=ext,
            category=category,
            turn=turn,
            first_shown="model_a" if position_known else None,
            comparison=comparison_key(slug, ext, turn, name_a, name_b),
            rater=rater or None,
            style_a=look.style(look.answer_id(prompt_id, con_a), turn),
            style_b=look.style(look.answer_id(prompt_id, con_b), turn),
            tstamp=tstamp,
        )


def battles_iter(flt: BattleFilter) -> Iterator[Battle]:
    kind, name = parse_source(flt.source)
    look = _Lookups()
    if kind in ("all", "human"):
        yield from _human_battles(flt, look)
    if kind in ("all", "judge"):
        yield from _judge_battles(flt, look, name)
    if kind in ("all", "import"):
        yield from _import_battles(flt, look, name)


def previous_battles_list(
    *,
    source: str = "all",
    prompt_set: str | None = None,
    category: str | None = None,
    turn: int | None = None,
    per_order: bool = False,
) -> list[Battle]:
    """Every battle from ``source`` matching the filters, oldest first within each source."""
    return list(battles_iter(BattleFilter(source, prompt_set, category, turn, per_order)))
