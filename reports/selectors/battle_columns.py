"""Verdicts read from the database straight into columns: the one reader behind every battle.

Human votes, judge verdicts and imported verdicts are read with ``values_list`` into NumPy
columns (winners mapped to outcome codes, imports sorted in NumPy); judges' two presentation orders are
paired, names, prompts, raters and comparison keys looked up and style features attached with
array operations, never one Python object per battle. ``battle_arrays`` hands the columns to
the rating package as ``BattleArrays``, ``battle_counts`` reads only the counts per pair and
outcome that Bradley-Terry needs (an aggregate query where the source allows it), and
``battles_list`` (``battle_records``) makes ``Battle`` records from the same columns for the code
that needs rows.

Battles come oldest first within each source, sources in the order human, judges, imports.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, QuerySet
from numpy.typing import NDArray

from arena.models import Contender, ImportedVerdict, Prompt, VerdictSource, Vote
from arena.ratings.arrays import (
    A_WINS,
    B_WINS,
    TIE,
    BattleArrays,
    BattleCounts,
    BattleLabels,
    group_codes,
)
from arena.ratings.types import Battle, StyleFeatures
from reports.selectors.answer_styles import OUTCOME_OF_WINNER, WINNER_NAMES, AnswerStyles, IdMap
from reports.selectors.battles import (
    HUMAN,
    IMPORT_PREFIX,
    JUDGE_PREFIX,
    BattleFilter,
    comparison_key,
    filter_prompts,
    filter_votes,
    live_kinds,
    parse_source,
)


class _Rows:
    """A query's rows as columns (tuples), read with the cyclic garbage collector paused.

    A million result tuples are a million new container objects: the collector would walk
    them again and again while they pile up (twice the CPU of the read itself), and none of
    them can be part of a cycle.
    """

    def __init__(self, qs: QuerySet[Any], fields: list[str]) -> None:
        enabled = gc.isenabled()
        gc.disable()
        try:
            rows = list(qs.values_list(*fields))
            self.n = len(rows)
            self._columns = (
                dict(zip(fields, zip(*rows, strict=True), strict=True)) if rows else dict.fromkeys(fields, ())
            )
            del rows
        finally:
            if enabled:
                gc.enable()

    def __getitem__(self, field: str) -> tuple[Any, ...]:
        return self._columns[field]

    def ints(self, field: str, dtype: Any = np.int64, *, none: int = -1) -> NDArray[Any]:
        values = self._columns[field]
        try:
            return np.array(values, dtype=dtype).reshape(self.n)
        except TypeError:  # a NULL among them
            return np.array([none if v is None else v for v in values], dtype=dtype).reshape(self.n)

    def floats(self, field: str) -> NDArray[np.float64]:
        return np.array([np.nan if v is None else v for v in self._columns[field]], dtype=np.float64).reshape(
            self.n
        )

    def outcomes(self, field: str = "winner") -> NDArray[np.int8]:
        try:
            return np.fromiter(
                map(OUTCOME_OF_WINNER.__getitem__, self._columns[field]), dtype=np.int8, count=self.n
            )
        except KeyError as unknown:
            raise ValueError(
                f"Unknown winner {unknown} in battles: expected model_a, model_b, tie or both_bad"
            ) from None

    def epochs(self, field: str) -> NDArray[np.float64]:
        return np.fromiter(
            (np.nan if m is None else m.timestamp() for m in self._columns[field]),
            dtype=np.float64,
            count=self.n,
        )


def _factorise(values: Any, table: dict[Any, int]) -> NDArray[np.intp]:
    """Codes of ``values`` in ``table`` (extended with new ones); None is -1."""
    return np.fromiter((-1 if v is None else table.setdefault(v, len(table)) for v in values), dtype=np.intp)


@dataclass
class BattleColumns:
    """Battles as columns, with the tables their codes index.

    ``contender_a``/``contender_b`` are contender ids; ``outcome`` the codes of
    ``arena.ratings.arrays``; ``prompt`` indexes ``prompts`` ((prompt set slug, prompt id,
    category), the slug and category None for a source's own unlinked prompt id; -1: none);
    ``source`` indexes ``sources``, ``rater`` ``raters`` (-1: none); ``answer_a``/``answer_b``
    are answer ids (-1: unknown).
    """

    contender_a: list[NDArray[np.int64]] = field(default_factory=list)
    contender_b: list[NDArray[np.int64]] = field(default_factory=list)
    outcome: list[NDArray[np.int8]] = field(default_factory=list)
    first_known: list[NDArray[np.bool_]] = field(default_factory=list)
    first_a: list[NDArray[np.bool_]] = field(default_factory=list)
    tstamp: list[NDArray[np.float64]] = field(default_factory=list)
    turn: list[NDArray[np.int64]] = field(default_factory=list)
    prompt: list[NDArray[np.intp]] = field(default_factory=list)
    source: list[NDArray[np.intp]] = field(default_factory=list)
    rater: list[NDArray[np.intp]] = field(default_factory=list)
    answer_a: list[NDArray[np.int64]] = field(default_factory=list)
    answer_b: list[NDArray[np.int64]] = field(default_factory=list)
    prompts: dict[tuple[str | None, str | None, str | None], int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    raters: dict[str, int] = field(default_factory=dict)

    def add(self, **columns: NDArray[Any]) -> None:
        for name, values in columns.items():
            getattr(self, name).append(values)

    def joined(self, name: str, dtype: Any) -> NDArray[Any]:
        parts = getattr(self, name)
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)

    def __len__(self) -> int:
        return sum(part.shape[0] for part in self.outcome)


class _Reader:
    """Reads the sources of one filter into one ``BattleColumns``."""

    def __init__(self, flt: BattleFilter, *, labels: bool, style: bool) -> None:
        self.flt = flt
        self.labels = labels
        self.raters = labels
        self.style = style
        self.answers = AnswerStyles()
        self.out = BattleColumns()
        self._prompt_codes: IdMap | None = None

    def prompt_codes(self, prompt_ids: NDArray[np.int64]) -> NDArray[np.intp]:
        """Codes in ``out.prompts`` of linked prompts (-1 where ``prompt_ids`` is -1)."""
        if self._prompt_codes is None:
            info = sorted(Prompt.objects.values_list("id", "prompt_set__slug", "external_id", "category"))
            self._prompt_codes = IdMap(
                np.array([row[0] for row in info], dtype=np.int64),
                np.array(
                    [
                        self.out.prompts.setdefault((row[1], row[2], row[3]), len(self.out.prompts))
                        for row in info
                    ],
                    dtype=np.int64,
                ),
            )
        return self._prompt_codes.get(prompt_ids).astype(np.intp)

    def human(self) -> None:
        qs = filter_votes(filter_prompts(Vote.objects.all(), self.flt, "comparison__prompt"), self.flt)
        if self.flt.turn:
            qs = qs.filter(comparison__turn=self.flt.turn)
        rows = _Rows(
            qs.order_by("created_at", "id"),
            [
                "comparison__answer_a__contender_id",
                "comparison__answer_b__contender_id",
                "winner",
                "a_shown_first",
                "comparison__turn",
                "comparison__prompt_id",
                "rater_id",
                "created_at",
                "comparison__answer_a_id",
                "comparison__answer_b_id",
            ],
        )
        n = rows.n
        self.out.add(
            contender_a=rows.ints("comparison__answer_a__contender_id"),
            contender_b=rows.ints("comparison__answer_b__contender_id"),
            outcome=rows.outcomes(),
            first_known=np.ones(n, dtype=np.bool_),
            first_a=rows.ints("a_shown_first", np.bool_),
            turn=rows.ints("comparison__turn"),
            prompt=self.prompt_codes(rows.ints("comparison__prompt_id")),
            source=np.full(n, self.out.sources.setdefault(HUMAN, len(self.out.sources)), dtype=np.intp),
            rater=(
                _factorise((f"user:{r}" for r in rows["rater_id"]), self.out.raters)
                if self.raters
                else np.full(n, -1, np.intp)
            ),
            tstamp=rows.epochs("created_at"),
            answer_a=rows.ints("comparison__answer_a_id"),
            answer_b=rows.ints("comparison__answer_b_id"),
        )

    def live(self, label: str) -> None:
        """Voted live battles that are not void: the rater's own prompt (not a prompt of a set),
        the whole conversation's verdict (turn: how many turns it had), the order shown."""
        if self.flt.prompt_set or self.flt.category:
            return  # a live prompt belongs to no prompt set or category
        from live.models import LiveBattle  # live is a layer on top of arena

        qs = LiveBattle.objects.filter(status=LiveBattle.Status.VOTED, reveals_identity=False)
        if self.flt.turn:
            qs = qs.filter(turns=self.flt.turn)
        rows = _Rows(
            qs.order_by("voted_at", "id"),
            [
                "contender_a_id",
                "contender_b_id",
                "winner",
                "a_shown_first",
                "turns",
                "id",
                "user_id",
                "voted_at",
            ],
        )
        n = rows.n
        prompt = (
            _factorise(((None, f"live-{i}", None) for i in rows["id"]), self.out.prompts).astype(np.intp)
            if self.labels
            else np.full(n, -1, np.intp)
        )
        self.out.add(
            contender_a=rows.ints("contender_a_id"),
            contender_b=rows.ints("contender_b_id"),
            outcome=rows.outcomes(),
            first_known=np.ones(n, dtype=np.bool_),
            first_a=rows.ints("a_shown_first", np.bool_),
            turn=rows.ints("turns"),
            prompt=prompt,
            source=np.full(n, self.out.sources.setdefault(label, len(self.out.sources)), dtype=np.intp),
            rater=(
                _factorise((None if r is None else f"user:{r}" for r in rows["user_id"]), self.out.raters)
                if self.raters
                else np.full(n, -1, np.intp)
            ),
            tstamp=rows.epochs("voted_at"),
            answer_a=np.full(n, -1, np.int64),
            answer_b=np.full(n, -1, np.int64),
        )

    def judges(self, judge_name: str | None) -> None:
        from judge.models import Judgment  # judge depends on arena, not the other way round

        qs = Judgment.objects.filter(status=Judgment.Status.DONE, comparison__isnull=False).exclude(winner="")
        if judge_name:
            qs = qs.filter(run__judge__name=judge_name)
        qs = filter_prompts(qs, self.flt, "comparison__prompt")
        if self.flt.turn:
            qs = qs.filter(turn=self.flt.turn)
        rows = _Rows(
            qs.order_by("completed_at", "id"),
            [
                "comparison__answer_a__contender_id",
                "comparison__answer_b__contender_id",
                "winner",
                "order",
                "turn",
                "comparison__prompt_id",
                "run__judge__name",
                "completed_at",
                "comparison__answer_a_id",
                "comparison__answer_b_id",
                "run_id",
                "comparison_id",
                "run__inconsistent",
                *(["from_cache"] if self.raters and self.flt.judge_runs_as_raters else []),
            ],
        )
        outcome, turn = rows.outcomes(), rows.ints("turn")
        judge_names: dict[str, int] = {}
        judge = _factorise(rows["run__judge__name"], judge_names)
        if self.flt.per_order:
            keep = partner = np.arange(rows.n)
            first_known = np.ones(rows.n, dtype=np.bool_)
            first_a = rows.ints("order") == 1
        else:
            # The two orders of one judgment (run, comparison, turn) make one battle, at the
            # second; orders that disagree count as a tie or yield nothing, as the run was told.
            key = group_codes(rows.ints("run_id"), rows.ints("comparison_id"), turn)
            by_key = np.argsort(key, kind="stable")
            sorted_key = key[by_key]
            odd = np.flatnonzero(
                (np.arange(key.size) - np.searchsorted(sorted_key, sorted_key, side="left")) % 2 == 1
            )
            second, first = by_key[odd], by_key[odd - 1]
            in_time = np.argsort(second)
            second, first = second[in_time], first[in_time]
            tie_policy = np.array([policy == "tie" for policy in rows["run__inconsistent"]], dtype=np.bool_)
            agreed = outcome[second] == outcome[first]
            outcome[second] = np.where(agreed, outcome[second], TIE)
            kept = agreed | tie_policy[second]
            keep, partner = second[kept], first[kept]
            first_known = np.zeros(keep.size, dtype=np.bool_)
            first_a = np.zeros(keep.size, dtype=np.bool_)
        source_code = np.array(
            [
                self.out.sources.setdefault(f"{JUDGE_PREFIX}{name}", len(self.out.sources))
                for name in judge_names
            ]
            or [-1],
            dtype=np.intp,
        )
        rater_code = np.array(
            [
                self.out.raters.setdefault(name, len(self.out.raters)) if self.raters else -1
                for name in judge_names
            ]
            or [-1],
            dtype=np.intp,
        )
        self.out.add(
            contender_a=rows.ints("comparison__answer_a__contender_id")[keep],
            contender_b=rows.ints("comparison__answer_b__contender_id")[keep],
            outcome=outcome[keep],
            first_known=first_known,
            first_a=first_a,
            turn=turn[keep],
            prompt=self.prompt_codes(rows.ints("comparison__prompt_id")[keep]),
            source=source_code[judge[keep]],
            rater=self._run_raters(rows, judge_names, judge, keep, partner)
            if self.raters and self.flt.judge_runs_as_raters
            else rater_code[judge[keep]],
            tstamp=rows.epochs("completed_at")[keep],
            answer_a=rows.ints("comparison__answer_a_id")[keep],
            answer_b=rows.ints("comparison__answer_b_id")[keep],
        )

    def _run_raters(
        self,
        rows: _Rows,
        judge_names: dict[str, int],
        judge: NDArray[np.intp],
        keep: NDArray[np.intp],
        partner: NDArray[np.intp],
    ) -> NDArray[np.intp]:
        """Each kept judge verdict's rater as its run (``<judge>#run<id>``), so that a judge's
        repeated runs are different raters. Both orders of one run are the same rater. A
        verdict the judgment cache answered (either order, ``partner`` being the other) repeats an
        earlier answer, maybe another run's, so it is no sample of its own: it has no rater."""
        runs, at, run_of = np.unique(rows.ints("run_id")[keep], return_index=True, return_inverse=True)
        names = list(judge_names)
        code = np.array(
            [
                self.out.raters.setdefault(f"{names[j]}#run{r}", len(self.out.raters))
                for j, r in zip(judge[keep][at].tolist(), runs.tolist(), strict=True)
            ]
            or [-1],
            dtype=np.intp,
        )
        cached = rows.ints("from_cache", np.bool_)
        return np.where(cached[keep] | cached[partner], -1, code[run_of.reshape(-1)]).astype(np.intp)

    def panel(self, name: str) -> None:
        """A judge panel's verdict per comparison and turn (and per order with ``per_order``):
        the majority of its judges' verdicts, a tie when no verdict has more votes than every
        other (Verga et al. 2024; see ``reports.selectors.panels``)."""
        from reports.selectors.panels import panel_judges

        members = _Reader(self.flt, labels=False, style=False)
        members.out.prompts, members._prompt_codes, members.answers = (
            self.out.prompts,
            self._prompt_codes,
            self.answers,
        )
        for judge in panel_judges(name):
            members.judges(judge)
        self._prompt_codes = members._prompt_codes
        if not len(members.out):
            return
        cols = {
            column: members.out.joined(column, dtype)
            for column, dtype in (
                ("contender_a", np.int64),
                ("contender_b", np.int64),
                ("outcome", np.int8),
                ("first_known", np.bool_),
                ("first_a", np.bool_),
                ("turn", np.int64),
                ("prompt", np.intp),
                ("tstamp", np.float64),
                ("answer_a", np.int64),
                ("answer_b", np.int64),
            )
        }
        # Every judge judged the same stored comparison, so A and B mean the same answers in
        # each member's verdict; both-bad counts as a tie, as in the panel's grades.
        group = group_codes(
            cols["answer_a"], cols["answer_b"], cols["turn"], cols["first_known"], cols["first_a"]
        )
        codes, first_row, inverse = np.unique(group, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        vote = np.where(cols["outcome"] == A_WINS, 0, np.where(cols["outcome"] == B_WINS, 1, 2))
        counts = np.zeros((codes.size, 3), dtype=np.int64)
        np.add.at(counts, (inverse, vote), 1)
        outcome = np.full(codes.size, TIE, dtype=np.int8)
        outcome[(counts[:, 0] > counts[:, 1]) & (counts[:, 0] > counts[:, 2])] = A_WINS
        outcome[(counts[:, 1] > counts[:, 0]) & (counts[:, 1] > counts[:, 2])] = B_WINS
        latest = np.full(codes.size, -np.inf)
        np.maximum.at(latest, inverse, np.nan_to_num(cols["tstamp"], nan=-np.inf))
        in_order = np.argsort(first_row, kind="stable")  # as the members' verdicts first came
        rows = first_row[in_order]
        source = f"panel:{name}"
        n = rows.size
        self.out.add(
            contender_a=cols["contender_a"][rows],
            contender_b=cols["contender_b"][rows],
            outcome=outcome[in_order],
            first_known=cols["first_known"][rows],
            first_a=cols["first_a"][rows],
            turn=cols["turn"][rows],
            prompt=cols["prompt"][rows],
            source=np.full(n, self.out.sources.setdefault(source, len(self.out.sources)), dtype=np.intp),
            rater=np.full(
                n, self.out.raters.setdefault(source, len(self.out.raters)) if self.raters else -1, np.intp
            ),
            tstamp=np.where(np.isinf(latest[in_order]), np.nan, latest[in_order]),
            answer_a=cols["answer_a"][rows],
            answer_b=cols["answer_b"][rows],
        )

    def imports(self, source_name: str | None) -> None:
        qs = ImportedVerdict.objects.exclude(winner="")
        if source_name:
            qs = qs.filter(source__name=source_name)
        if self.flt.prompt_set or self.flt.category:
            qs = filter_prompts(qs, self.flt, "prompt")
        if self.flt.turn:
            qs = qs.filter(turn=self.flt.turn)
        fields = [
            "model_a_id",
            "model_b_id",
            "winner",
            "position_known",
            "turn",
            "prompt_id",
            "source_id",
            "tstamp",
            "batch_id",
            "line",
            "judged_order",
        ]
        if self.labels:
            fields += ["question_ref"]
        if self.raters:
            fields += ["rater"]
        # Sorted here rather than by the database: at a million verdicts PostgreSQL's sort
        # spills to disk, NumPy's does not (bench_waits.py; PERFORMANCE.md).
        rows = _Rows(qs.order_by(), fields)
        n = rows.n
        order = np.lexsort((rows.ints("judged_order"), rows.ints("line"), rows.ints("batch_id")))
        prompt_id = rows.ints("prompt_id")[order]
        prompt = self.prompt_codes(prompt_id)
        if self.labels:
            # An unlinked verdict keeps the source's own prompt id.
            unlinked = np.flatnonzero(prompt_id < 0)
            refs = rows["question_ref"]
            prompt[unlinked] = _factorise(
                ((None, refs[i], None) if refs[i] else None for i in order[unlinked].tolist()),
                self.out.prompts,
            )
        source_ids, source = np.unique(rows.ints("source_id")[order], return_inverse=True)
        names = dict(VerdictSource.objects.filter(id__in=source_ids.tolist()).values_list("id", "name"))
        source_code = np.array(
            [
                self.out.sources.setdefault(f"{IMPORT_PREFIX}{names[i]}", len(self.out.sources))
                for i in source_ids.tolist()
            ]
            or [-1],
            dtype=np.intp,
        )
        contender_a, contender_b = rows.ints("model_a_id")[order], rows.ints("model_b_id")[order]
        known = rows.ints("position_known", np.bool_)[order]
        no_answers = np.full(n, -1, np.int64)
        self.out.add(
            contender_a=contender_a,
            contender_b=contender_b,
            outcome=rows.outcomes()[order],
            first_known=known,
            first_a=known,
            turn=rows.ints("turn")[order],
            prompt=prompt,
            source=source_code[source.reshape(-1)],
            rater=(
                _factorise(((rater or None) for rater in rows["rater"]), self.out.raters)[order]
                if self.raters
                else np.full(n, -1, np.intp)
            ),
            tstamp=rows.floats("tstamp")[order],
            # Imported verdicts name contenders; their answers are found by prompt and contender.
            answer_a=self.answers.find(prompt_id, contender_a) if self.style else no_answers,
            answer_b=self.answers.find(prompt_id, contender_b) if self.style else no_answers,
        )


def battle_columns(
    *filters: BattleFilter, labels: bool = True, raters: bool = True, style: bool = True
) -> tuple[BattleColumns, AnswerStyles, list[int]]:
    """Every battle matching each filter as columns (one after the other, sharing their tables),
    the answers' style features, and where each filter's battles end.

    Without ``labels`` raters and the prompt ids of unlinked imports are not read (the
    reports need them, the leaderboards do not), without ``raters`` raters are not (agreement
    between sources does not group by rater); without ``style`` imported verdicts are not
    matched to answers.
    """
    reader = _Reader(filters[0], labels=labels, style=style)
    reader.raters = labels and raters
    ends = []
    for flt in filters:
        kind, name = parse_source(flt.source)
        reader.flt = flt
        if kind in ("all", "human"):
            reader.human()
        live_label = live_kinds(kind)
        if live_label:
            reader.live(live_label)
        if kind in ("all", "judge"):
            reader.judges(name)
        if kind in ("all", "import"):
            reader.imports(name)
        if kind == "panel":  # not in "all": its verdicts are its judges', already counted there
            assert name is not None
            reader.panel(name)
        ends.append(len(reader.out))
    return reader.out, reader.answers, ends


@dataclass(frozen=True)
class ReadBattles:
    """What one read gives a computation: the arrays, and how many verdicts it read.

    ``total`` counts every battle read, a model against itself included (the arrays leave
    those out unless read for a report).
    """

    arrays: BattleArrays
    total: int


def _model_index(columns: BattleColumns) -> tuple[tuple[str, ...], NDArray[np.intp], NDArray[np.intp]]:
    """Model names sorted, and each battle's two models as indices into them."""
    contender_a, contender_b = (
        columns.joined("contender_a", np.int64),
        columns.joined("contender_b", np.int64),
    )
    present = np.unique(np.concatenate([contender_a, contender_b]))
    names = dict(Contender.objects.filter(id__in=present.tolist()).values_list("id", "name"))
    models = tuple(sorted(names[i] for i in present.tolist()))
    position = {name: i for i, name in enumerate(models)}
    index = IdMap(present, np.array([position[names[i]] for i in present.tolist()], dtype=np.int64))
    return models, index.get(contender_a).astype(np.intp), index.get(contender_b).astype(np.intp)


class ComparisonNames(Sequence[str]):
    """The comparison keys (``battles.comparison_key``) of a read, made only when asked for.

    Grouping needs only the integer codes; the names are for matching against battles read
    elsewhere, and formatting one per distinct comparison is slow at a million (PERFORMANCE.md).
    """

    def __init__(
        self,
        prompts: list[tuple[str | None, str | None, str | None]],
        prompt: NDArray[np.intp],
        turn: NDArray[np.int64],
        low: NDArray[np.intp],
        high: NDArray[np.intp],
        models: tuple[str, ...],
    ):
        self._prompts, self._prompt, self._turn, self._low, self._high, self._models = (
            prompts,
            prompt,
            turn,
            low,
            high,
            models,
        )

    def __len__(self) -> int:
        return int(self._prompt.shape[0])

    def __getitem__(self, index: int) -> str:  # type: ignore[override]  # an index, never a slice
        slug, ext, _category = self._prompts[self._prompt[index]]
        key = comparison_key(
            slug, ext, int(self._turn[index]), self._models[self._low[index]], self._models[self._high[index]]
        )
        assert key is not None
        return key


def _comparisons(
    columns: BattleColumns, models: tuple[str, ...], model_a: NDArray[np.intp], model_b: NDArray[np.intp]
) -> tuple[ComparisonNames, NDArray[np.intp]]:
    """A code per distinct comparison key (-1: none) and the keys' names."""
    prompt, turn = columns.joined("prompt", np.intp), columns.joined("turn", np.int64)
    prompts = list(columns.prompts)
    has_key = np.array([info[1] is not None for info in prompts] + [False], dtype=np.bool_)[prompt]
    low, high = np.minimum(model_a, model_b), np.maximum(model_a, model_b)
    rows = np.flatnonzero(has_key)
    _, first, inverse = np.unique(
        group_codes(prompt[rows], turn[rows], low[rows], high[rows]), return_index=True, return_inverse=True
    )
    comparison = np.full(prompt.shape[0], -1, dtype=np.intp)
    comparison[rows] = inverse.reshape(-1)
    at = rows[first]
    return ComparisonNames(prompts, prompt[at], turn[at], low[at], high[at], models), comparison


def battle_arrays(flt: BattleFilter, *, labels: bool = False, style: bool = False) -> ReadBattles:
    """The battles matching ``flt`` as ``BattleArrays`` (models sorted by name).

    ``labels``: with source, rater, comparison and turn labels, every verdict kept (the bias
    and agreement reports); otherwise a model's battles against itself are left out (ratings).
    ``style``: with the answers' style features (style control, length bias).
    """
    columns, answers, _ = battle_columns(flt, labels=labels, style=style)
    return ReadBattles(_arrays(columns, answers, labels=labels, style=style), len(columns))


def battle_arrays_together(*filters: BattleFilter) -> list[ReadBattles]:
    """Labelled arrays for each filter, read together so that they share their tables (models,
    comparison codes): agreement between sources joins them on codes, not names."""
    columns, answers, ends = battle_columns(*filters, labels=True, raters=False, style=False)
    arrays = _arrays(columns, answers, labels=True, style=False)
    starts = [0, *ends[:-1]]
    return [
        ReadBattles(arrays.take(np.arange(start, end)), end - start)
        for start, end in zip(starts, ends, strict=True)
    ]


def _arrays(columns: BattleColumns, answers: AnswerStyles, *, labels: bool, style: bool) -> BattleArrays:
    models, model_a, model_b = _model_index(columns)
    first_known = columns.joined("first_known", np.bool_)
    first_a = columns.joined("first_a", np.bool_)
    tstamp = columns.joined("tstamp", np.float64)
    style_a = style_b = None
    if style and len(columns):
        turn = columns.joined("turn", np.int64)
        style_a = answers.features(columns.joined("answer_a", np.int64), turn)
        style_b = answers.features(columns.joined("answer_b", np.int64), turn)
        if not (~np.isnan(style_a[:, 0]) & ~np.isnan(style_b[:, 0])).any():
            style_a = style_b = None
    battle_labels = None
    if labels:
        comparisons, comparison = _comparisons(columns, models, model_a, model_b)
        battle_labels = BattleLabels(
            tuple(columns.sources),
            columns.joined("source", np.intp),
            tuple(columns.raters),
            columns.joined("rater", np.intp),
            comparisons,
            comparison,
            columns.joined("turn", np.int64),
        )
    return BattleArrays.from_arrays(
        models,
        model_a,
        model_b,
        columns.joined("outcome", np.int8),
        first_shown_a=first_a if first_known.any() else None,
        first_shown_known=first_known if first_known.any() else None,
        style_a=style_a,
        style_b=style_b,
        tstamp=tstamp if (~np.isnan(tstamp)).any() else None,
        labels=battle_labels,
        keep_self_battles=labels,
    )


def _aggregate(qs: QuerySet[Any], model_a: str, model_b: str) -> list[tuple[int, int, int, int]]:
    cells = qs.values_list(model_a, model_b, "winner").annotate(battles=Count("pk")).order_by()
    try:
        return [(a, b, OUTCOME_OF_WINNER[winner], n) for a, b, winner, n in cells]
    except KeyError as unknown:
        raise ValueError(
            f"Unknown winner {unknown} in battles: expected model_a, model_b, tie or both_bad"
        ) from None


def battle_counts(flt: BattleFilter) -> BattleCounts:
    """Battles counted per (model_a, model_b, outcome), all Bradley-Terry needs.

    Votes and imported verdicts are counted by the database (one aggregate query: the cost
    hardly grows with the number of battles); judges' two orders must be paired first, so
    their battles are read as arrays and counted here.
    """
    kind, name = parse_source(flt.source)
    cells: list[tuple[int, int, int, int]] = []
    reader = _Reader(flt, labels=False, style=False)
    if kind in ("all", "human"):
        qs = filter_votes(filter_prompts(Vote.objects.all(), flt, "comparison__prompt"), flt)
        if flt.turn:
            qs = qs.filter(comparison__turn=flt.turn)
        cells += _aggregate(qs, "comparison__answer_a__contender_id", "comparison__answer_b__contender_id")
    if live_kinds(kind) and not (flt.prompt_set or flt.category):
        from live.models import LiveBattle

        live = LiveBattle.objects.filter(status=LiveBattle.Status.VOTED, reveals_identity=False)
        if flt.turn:
            live = live.filter(turns=flt.turn)
        cells += _aggregate(live, "contender_a_id", "contender_b_id")
    if kind in ("all", "judge", "panel"):
        if kind == "panel":
            assert name is not None
            reader.panel(name)
        else:
            reader.judges(name)
        judged = reader.out
        cells += list(
            zip(
                judged.joined("contender_a", np.int64).tolist(),
                judged.joined("contender_b", np.int64).tolist(),
                judged.joined("outcome", np.int8).tolist(),
                [1] * len(judged),
                strict=True,
            )
        )
    if kind in ("all", "import"):
        qs = ImportedVerdict.objects.exclude(winner="")
        if name:
            qs = qs.filter(source__name=name)
        if flt.prompt_set or flt.category:
            qs = filter_prompts(qs, flt, "prompt")
        if flt.turn:
            qs = qs.filter(turn=flt.turn)
        cells += _aggregate(qs, "model_a_id", "model_b_id")
    table = np.array(cells, dtype=np.int64).reshape(-1, 4)
    present = np.unique(table[:, :2])
    names = dict(Contender.objects.filter(id__in=present.tolist()).values_list("id", "name"))
    models = tuple(sorted(names[i] for i in present.tolist()))
    position = {n: i for i, n in enumerate(models)}
    index = IdMap(present, np.array([position[names[i]] for i in present.tolist()], dtype=np.int64))
    a, b = index.get(table[:, 0]), index.get(table[:, 1])
    n = len(models)
    flat = np.zeros(n * n * 4, dtype=np.int64)
    np.add.at(flat, (a * n + b) * 4 + table[:, 2], table[:, 3])
    counts = flat.reshape(n, n, 4)
    counts[np.arange(n), np.arange(n)] = 0  # a model against itself says nothing of its rating
    return BattleCounts(models, counts, int(table[:, 3].sum()))


def battle_records(flt: BattleFilter) -> Iterator[Battle]:
    """The same battles as ``Battle`` records, for the code that needs rows (exports, tests)."""
    columns, answers, _ = battle_columns(flt)
    contender_a, contender_b = (
        columns.joined("contender_a", np.int64),
        columns.joined("contender_b", np.int64),
    )
    names = dict(
        Contender.objects.filter(id__in=np.unique(np.r_[contender_a, contender_b]).tolist()).values_list(
            "id", "name"
        )
    )
    turn = columns.joined("turn", np.int64)
    styles = [
        answers.features(columns.joined(side, np.int64), turn) if len(columns) else np.empty((0, 4))
        for side in ("answer_a", "answer_b")
    ]
    prompts, sources, raters = list(columns.prompts), list(columns.sources), list(columns.raters)
    no_prompt = (None, None, None)
    for i, (con_a, con_b, outcome, known, first_a, at, t, prompt, source, rater) in enumerate(
        zip(
            contender_a.tolist(),
            contender_b.tolist(),
            columns.joined("outcome", np.int8).tolist(),
            columns.joined("first_known", np.bool_).tolist(),
            columns.joined("first_a", np.bool_).tolist(),
            columns.joined("tstamp", np.float64).tolist(),
            turn.tolist(),
            columns.joined("prompt", np.intp).tolist(),
            columns.joined("source", np.intp).tolist(),
            columns.joined("rater", np.intp).tolist(),
            strict=True,
        )
    ):
        slug, ext, category = prompts[prompt] if prompt >= 0 else no_prompt
        name_a, name_b = names[con_a], names[con_b]
        style_a, style_b = (
            None if np.isnan(style[i, 0]) else StyleFeatures(*(int(x) for x in style[i])) for style in styles
        )
        yield Battle(
            source=sources[source],
            model_a=name_a,
            model_b=name_b,
            winner=WINNER_NAMES[outcome],
            prompt_set=slug,
            prompt=ext,
            category=category,
            turn=t,
            first_shown=("model_a" if first_a else "model_b") if known else None,
            comparison=comparison_key(slug, ext, t, name_a, name_b),
            rater=raters[rater] if rater >= 0 else None,
            style_a=style_a,
            style_b=style_b,
            tstamp=None if np.isnan(at) else at,
        )
