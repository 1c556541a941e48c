"""The numbers evaluators publish, read from what Arena stores: MT-Bench scores, win rate against
a baseline (raw, weighted, length-controlled, Arena-Hard's five levels and anchored
Bradley–Terry), grades and HHH per source, and the table comparing judges.

Each report has a parameter class (``*Params``, a ``ReportParams``: ``read`` validates page, API
and command input through the one parameter layer, ``arena.params``; ``key`` is the snapshot
key; ``is_canonical`` says whether anyone may have it computed) and a ``compute`` that reads the database and
calls the pure maths in ``arena.ratings``. Pages and the API serve the stored snapshot
(``reports.services.snapshots``), never a computation inside the request.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.db.models import QuerySet

from arena import ratings  # names load on first use: URL conf and start-up stay free of NumPy
from arena.models import Answer, Contender, ImportedScore, ImportedVerdict, VerdictSource, Vote, max_length_of
from arena.params import NOT_CHOICE, NOT_FOUND, QueryReader, shown
from reports.selectors.battle_records import battles_list
from reports.selectors.battles import parse_source
from reports.selectors.leaderboards import (
    ReportParams,
    jsonable,
    read_prompt_set,
    read_source,
    verdicts_count,
)
from reports.selectors.panels import panel_judges

if TYPE_CHECKING:
    from arena.ratings.scores import ScoreRecord
    from arena.ratings.winrate import Preference

DEFAULT_STRONG_WEIGHT = 3.0  # Arena-Hard counts a [[A>>B]] verdict three times


CONTENDER_NAME_MAX_LENGTH = max_length_of(Contender, "name")


def _bootstrap(reader: QueryReader) -> int:
    return reader.integer(
        "bootstrap", settings.ARENA_BOOTSTRAP_ROUNDS, minimum=0, maximum=settings.ARENA_MAX_BOOTSTRAP_ROUNDS
    )


def _seed(reader: QueryReader) -> int:
    return reader.integer("seed", 0, minimum=0, maximum=2**32 - 1)


def judgments_count(*, source: str, prompt_set: str | None = None, modes: Sequence[str] = ()) -> int:
    """How many finished judgments (of ``modes``; empty: any) the judges of ``source`` stored:
    a judge's, a panel's members', every judge's for ``all``; none for people or imports."""
    from judge.models import Judgment

    kind, name = parse_source(source)
    if kind not in ("judge", "panel", "all"):
        return 0
    qs = Judgment.objects.exclude(status=Judgment.Status.PENDING)
    if kind != "all":
        qs = qs.filter(run__judge__name__in=panel_judges(name or "") if kind == "panel" else [name])
    if modes:
        qs = qs.filter(run__mode__in=modes)
    if prompt_set:
        qs = qs.filter(run__prompt_set__slug=prompt_set)
    return qs.count()


def read_source_of(
    reader: QueryReader,
    kinds: tuple[str, ...],
    why: str,
    allowed: str,
    *,
    name: str = "source",
    default: str | None = None,
) -> str:
    """A source that exists (``read_source``) and is of one of ``kinds``: the others cannot give
    this report's numbers (``why``)."""
    source = read_source(reader, name, default=default)
    if not reader.failed(name) and parse_source(source)[0] not in kinds:
        reader.fail(name, NOT_CHOICE, f"{shown(source)}: {why}", allowed)
    return source


def _prompt_name(slug: str | None, external_id: str | None) -> str:
    return f"{slug or '-'}/{external_id or '-'}"


def _prompt_key(slug: str | None, external_id: str | None, turn: int) -> str:
    """One judged item: a prompt's turn (the bootstrap's unit for verdicts)."""
    return f"{_prompt_name(slug, external_id)}/{turn}"


# --- MT-Bench single-answer scores ------------------------------------------------------------


@dataclass(frozen=True)
class ScoresParams(ReportParams):
    """The canonical set: each source and prompt set, the bootstrap and seed at their defaults."""

    source: str
    prompt_set: str | None = None
    bootstrap: int = 1000
    seed: int = 0

    kind: ClassVar[str] = "scores"

    @classmethod
    def read(cls, reader: QueryReader, *, default_source: str | None = None) -> Self:
        source = read_source_of(
            reader,
            ("judge", "import", "panel"),
            "scores come from a judge, a panel or an import.",
            "judge:NAME, panel:NAME or import:NAME",
            default=default_source,
        )
        return cls(
            source=source,
            prompt_set=read_prompt_set(reader),
            bootstrap=_bootstrap(reader),
            seed=_seed(reader),
        )

    def size(self) -> int:
        """Scores are not battles: how many single-answer scores the computation reads, at most."""
        return score_records_count(source=self.source, prompt_set=self.prompt_set)


def score_sources() -> list[str]:
    """Sources with single-answer scores: judges that ran ``single``, imports of scores, panels."""
    from judge.models import Judge, JudgePanel, Judgment

    judges = list(
        Judge.objects.filter(
            runs__judgments__answer__isnull=False,
            runs__mode="single",
            runs__judgments__status=Judgment.Status.DONE,
        )
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    imports = (
        VerdictSource.objects.filter(scores__isnull=False)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    panels = (
        JudgePanel.objects.filter(judges__name__in=judges)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    return [f"judge:{n}" for n in judges] + [f"panel:{n}" for n in panels] + [f"import:{n}" for n in imports]


def _judge_scores(judges: Sequence[str], prompt_set: str | None) -> QuerySet[Any]:
    from judge.models import Judgment

    qs = Judgment.objects.filter(
        run__judge__name__in=judges,
        run__mode="single",
        answer__isnull=False,
        status__in=[Judgment.Status.DONE, Judgment.Status.UNPARSED],
    )
    if prompt_set:
        qs = qs.filter(answer__prompt__prompt_set__slug=prompt_set)
    return qs


def _imported_scores(name: str, prompt_set: str | None) -> QuerySet[Any]:
    qs = ImportedScore.objects.filter(source__name=name)
    if prompt_set:
        qs = qs.filter(prompt__prompt_set__slug=prompt_set)
    return qs


def score_records_count(*, source: str, prompt_set: str | None = None) -> int:
    """How many single-answer scores of ``source`` there are (one query; before latest-run rules)."""
    kind, name = parse_source(source)
    if kind == "import":
        return _imported_scores(name or "", prompt_set).count()
    judges = panel_judges(name or "") if kind == "panel" else [name or ""]
    return _judge_scores(judges, prompt_set).count()


def _judge_score_records(judge: str, prompt_set: str | None) -> list[ScoreRecord]:
    qs = _judge_scores([judge], prompt_set)
    latest: dict[tuple[int, int], ScoreRecord] = {}  # a later run of the same judge replaces an earlier one
    for answer_id, turn, score, model, slug, ext, category in (
        qs.order_by("run_id", "id")
        .values_list(
            "answer_id",
            "turn",
            "score",
            "answer__contender__name",
            "answer__prompt__prompt_set__slug",
            "answer__prompt__external_id",
            "answer__prompt__category",
        )
        .iterator(5000)
    ):
        latest[(answer_id, turn)] = ratings.ScoreRecord(
            model, _prompt_name(slug, ext), turn, score, category or None
        )
    return list(latest.values())


def score_records(*, source: str, prompt_set: str | None = None) -> list[ScoreRecord]:
    """Single-answer scores of one source as ``ScoreRecord``s (None: the rating did not parse)."""
    kind, name = parse_source(source)
    assert name is not None
    if kind == "judge":
        return _judge_score_records(name, prompt_set)
    if kind == "panel":
        by_target: dict[tuple[str, str, int], list[ScoreRecord]] = defaultdict(list)
        for judge in panel_judges(name):
            for record in _judge_score_records(judge, prompt_set):
                by_target[(record.model, record.prompt, record.turn)].append(record)
        records = []
        for members in by_target.values():
            parsed = [r.score for r in members if r.score is not None]
            records.append(
                ratings.ScoreRecord(
                    members[0].model,
                    members[0].prompt,
                    members[0].turn,
                    statistics.fmean(parsed) if parsed else None,
                    members[0].category,
                )
            )
        return records
    qs = _imported_scores(name, prompt_set)
    return [
        ratings.ScoreRecord(
            model, _prompt_name(slug, ext) if ext else f"-/{ref}", turn, score, category or None
        )
        for model, slug, ext, ref, category, turn, score in qs.order_by("batch_id", "line")
        .values_list(
            "model__name",
            "prompt__prompt_set__slug",
            "prompt__external_id",
            "question_ref",
            "prompt__category",
            "turn",
            "score",
        )
        .iterator(5000)
    ]


def scores_compute(*, params: ScoresParams) -> dict[str, Any]:
    records = score_records(source=params.source, prompt_set=params.prompt_set)
    table = ratings.score_table(records, bootstrap_rounds=params.bootstrap, seed=params.seed)
    result = {"kind": params.kind, "params": asdict(params), "battle_total": len(records), **table.to_dict()}
    if not records:
        result["error"] = (
            f"{params.source} has no single-answer scores{' on ' + params.prompt_set if params.prompt_set else ''}."
        )
    return jsonable(result)


# --- Win rate against a baseline ----------------------------------------------------------------


@dataclass(frozen=True)
class WinRateParams(ReportParams):
    """The canonical set: each source and prompt set, with the baseline the runs named (or the
    model every verdict involves), the strong weight, bootstrap and seed at their defaults."""

    source: str
    baseline: str | None = None
    prompt_set: str | None = None
    strong_weight: float = DEFAULT_STRONG_WEIGHT
    bootstrap: int = 1000
    seed: int = 0

    kind: ClassVar[str] = "winrate"

    @classmethod
    def read(cls, reader: QueryReader, *, default_source: str | None = None) -> Self:
        allowed = "a contender's name, or nothing for the baseline the runs named"
        baseline = reader.text("baseline", max_length=CONTENDER_NAME_MAX_LENGTH, allowed=allowed)
        if baseline and not Contender.objects.filter(name=baseline).exists():
            reader.fail("baseline", NOT_FOUND, f"No contender named {shown(baseline)}.", allowed)
        return cls(
            source=read_source(reader, default=default_source or "all"),
            baseline=baseline,
            prompt_set=read_prompt_set(reader),
            strong_weight=reader.number("strong_weight", DEFAULT_STRONG_WEIGHT, minimum=1.0, maximum=100.0),
            bootstrap=_bootstrap(reader),
            seed=_seed(reader),
        )


@dataclass
class _Verdict:
    """One verdict between two models on one prompt turn, as a preference for ``model_b``."""

    model_a: str
    model_b: str
    prompt: str
    preference_b: float  # 1: model_b better, 0: model_a better, 0.5: tie
    strong: bool = False
    length_a: int | None = None
    length_b: int | None = None
    continuous: bool = False


_WINNER_PREFERENCE = {"model_a": 0.0, "model_b": 1.0, "tie": 0.5, "both_bad": 0.5, "same": 0.5}


class _Lengths:
    """Answer lengths in characters per (prompt id, contender id, turn), loaded on first use."""

    def __init__(self) -> None:
        self._by: dict[tuple[int, int], list[int]] | None = None

    def get(self, prompt_id: int | None, contender_id: int, turn: int) -> int | None:
        if prompt_id is None:
            return None
        if self._by is None:
            self._by = {
                (p, c): [len(t) for t in turns]
                for p, c, turns in Answer.objects.values_list("prompt_id", "contender_id", "turns").iterator(
                    2000
                )
            }
        turns = self._by.get((prompt_id, contender_id)) or []
        return turns[turn - 1] if len(turns) >= turn else None


def _judge_verdicts(judge: str, prompt_set: str | None) -> tuple[list[_Verdict], Counter[str]]:
    """A judge's pairwise-type verdicts, both orders combined per comparison (and run).

    Discrete verdicts: the orders agree → that verdict (strong only if both were strong);
    they disagree → a tie or nothing, as the run's ``inconsistent`` option says. Logprob
    preferences: the mean of the two orders. Also returns the baselines its runs named.
    """
    from judge.models import Judgment

    qs = Judgment.objects.filter(
        run__judge__name=judge, comparison__isnull=False, status=Judgment.Status.DONE
    ).exclude(winner="")
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    rows = qs.order_by("run_id", "comparison_id", "turn", "order").values_list(
        "run_id",
        "run__inconsistent",
        "run__mode",
        "run__baseline__name",
        "comparison_id",
        "turn",
        "winner",
        "preference",
        "strong",
        "comparison__prompt_id",
        "comparison__prompt__prompt_set__slug",
        "comparison__prompt__external_id",
        "comparison__answer_a__contender__name",
        "comparison__answer_b__contender__name",
        "comparison__answer_a__turns",
        "comparison__answer_b__turns",
    )
    pending: dict[tuple[int, int, int], tuple[Any, ...]] = {}
    verdicts, baselines = [], Counter[str]()
    for row in rows.iterator(2000):
        (
            run_id,
            inconsistent,
            mode,
            baseline,
            comp_id,
            turn,
            winner,
            preference,
            strong,
            _pid,
            slug,
            ext,
            name_a,
            name_b,
            turns_a,
            turns_b,
        ) = row
        if baseline:
            baselines[baseline] += 1
        key = (run_id, comp_id, turn)
        if key not in pending:
            pending[key] = row
            continue
        other = pending.pop(key)
        common: dict[str, Any] = {
            "model_a": name_a,
            "model_b": name_b,
            "prompt": _prompt_key(slug, ext, turn),
            "length_a": len(turns_a[turn - 1]) if len(turns_a) >= turn else None,
            "length_b": len(turns_b[turn - 1]) if len(turns_b) >= turn else None,
        }
        if mode == "logprob" and preference is not None and other[7] is not None:
            verdicts.append(_Verdict(preference_b=(preference + other[7]) / 2, continuous=True, **common))
        elif winner == other[6]:
            verdicts.append(
                _Verdict(preference_b=_WINNER_PREFERENCE[winner], strong=bool(strong and other[8]), **common)
            )
        elif inconsistent == "tie":
            verdicts.append(_Verdict(preference_b=0.5, **common))
    return verdicts, baselines


def _import_verdicts(name: str, prompt_set: str | None) -> list[_Verdict]:
    """Imported verdicts; an AlpacaEval annotation keeps its continuous ``preference`` and lengths.

    LLM judgments imported in both orders (``judged_order`` 1 and 2) are combined like a
    judge's: the same winner or a tie.
    """
    qs = ImportedVerdict.objects.filter(source__name=name).exclude(winner="")
    if prompt_set:
        qs = qs.filter(prompt__prompt_set__slug=prompt_set)
    lengths = _Lengths()
    out: list[_Verdict] = []
    pending: dict[tuple[int, int], _Verdict] = {}
    for batch, line, order, fmt, winner, meta, turn, pid, slug, ext, ref, a_id, b_id, name_a, name_b in (
        qs.order_by("batch_id", "line", "judged_order")
        .values_list(
            "batch_id",
            "line",
            "judged_order",
            "batch__format",
            "winner",
            "metadata",
            "turn",
            "prompt_id",
            "prompt__prompt_set__slug",
            "prompt__external_id",
            "question_ref",
            "model_a_id",
            "model_b_id",
            "model_a__name",
            "model_b__name",
        )
        .iterator(5000)
    ):
        meta = meta or {}
        preference = _WINNER_PREFERENCE[winner]
        continuous = False
        raw = meta.get("preference")
        if fmt == "alpaca_eval" and isinstance(raw, int | float):
            preference, continuous = (0.5 if raw == 0 else float(raw) - 1.0), True
        prompt = _prompt_key(slug, ext, turn) if pid else f"{name}/{ref or line}/{turn}"
        verdict = _Verdict(
            name_a,
            name_b,
            prompt,
            preference,
            continuous=continuous,
            length_a=meta.get("length_a") or lengths.get(pid, a_id, turn),
            length_b=meta.get("length_b") or lengths.get(pid, b_id, turn),
        )
        if order == 0:
            out.append(verdict)
        elif (batch, line) in pending:
            first = pending.pop((batch, line))
            same = (
                first.preference_b == verdict.preference_b
                if first.model_a == verdict.model_a
                else first.preference_b == 1.0 - verdict.preference_b
            )
            first.preference_b = first.preference_b if same else 0.5
            out.append(first)
        else:
            pending[(batch, line)] = verdict
    return out


def _human_verdicts(prompt_set: str | None) -> list[_Verdict]:
    qs = Vote.objects.all()
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    return [
        _Verdict(
            a,
            b,
            _prompt_key(slug, ext, turn),
            _WINNER_PREFERENCE[winner],
            length_a=len(ta[turn - 1]) if len(ta) >= turn else None,
            length_b=len(tb[turn - 1]) if len(tb) >= turn else None,
        )
        for winner, turn, slug, ext, a, b, ta, tb in qs.values_list(
            "winner",
            "comparison__turn",
            "comparison__prompt__prompt_set__slug",
            "comparison__prompt__external_id",
            "comparison__answer_a__contender__name",
            "comparison__answer_b__contender__name",
            "comparison__answer_a__turns",
            "comparison__answer_b__turns",
        ).iterator(5000)
    ]


def _verdicts(source: str, prompt_set: str | None) -> tuple[list[_Verdict], Counter[str]]:
    kind, name = parse_source(source)
    if kind == "judge":
        assert name is not None
        return _judge_verdicts(name, prompt_set)
    if kind == "import":
        assert name is not None
        return _import_verdicts(name, prompt_set), Counter()
    if kind == "human":
        return _human_verdicts(prompt_set), Counter()
    if kind == "panel":
        assert name is not None
        return _panel_verdicts(name, prompt_set)
    verdicts, baselines = _human_verdicts(prompt_set), Counter[str]()
    for judge in _judge_names():
        more, named = _judge_verdicts(judge, prompt_set)
        verdicts += more
        baselines += named
    for source_name in VerdictSource.objects.values_list("name", flat=True):
        verdicts += _import_verdicts(source_name, prompt_set)
    return verdicts, baselines


def _judge_names() -> list[str]:
    from judge.models import Judge

    return list(Judge.objects.order_by("name").values_list("name", flat=True))


def _panel_verdicts(name: str, prompt_set: str | None) -> tuple[list[_Verdict], Counter[str]]:
    """Per comparison, the members' verdicts: the majority (a tie when there is none), or the
    mean when the members gave probabilities."""
    groups: dict[tuple[str, str, str], list[_Verdict]] = defaultdict(list)
    baselines = Counter[str]()
    for judge in panel_judges(name):
        verdicts, named = _judge_verdicts(judge, prompt_set)
        baselines += named
        for v in verdicts:
            groups[(v.prompt, v.model_a, v.model_b)].append(v)
    out = []
    for members in groups.values():
        first = members[0]
        if all(m.continuous for m in members):
            preference = statistics.fmean(m.preference_b for m in members)
        else:
            voted = ratings.majority([m.preference_b for m in members], tie=0.5)
            preference = 0.5 if voted is None else voted
        strong = (
            ratings.majority([m.strong for m in members if m.preference_b == preference], tie=False) or False
        )
        out.append(
            _Verdict(
                first.model_a,
                first.model_b,
                first.prompt,
                preference,
                strong,
                first.length_a,
                first.length_b,
                all(m.continuous for m in members),
            )
        )
    return out, baselines


def _infer_baseline(verdicts: Sequence[_Verdict], named: Counter[str]) -> str | None:
    """The runs' own baseline, else the one model in every verdict. With two models only, both
    are in every verdict: the one a file lists first (AlpacaEval's ``generator_1`` is its
    reference) is the baseline."""
    if named:
        return named.most_common(1)[0][0]
    if not verdicts:
        return None
    in_all = {verdicts[0].model_a, verdicts[0].model_b}
    for v in verdicts:
        in_all &= {v.model_a, v.model_b}
        if not in_all:
            return None
    if len(in_all) == 1:
        return next(iter(in_all))
    first = Counter(v.model_a for v in verdicts).most_common(2)
    return first[0][0] if len(first) == 1 or first[0][1] > first[1][1] else None


def preferences_against(
    verdicts: Iterable[_Verdict], baseline: str, strong_weight: float
) -> list[Preference]:
    """Each verdict involving ``baseline`` as a preference for the other model."""
    out = []
    for v in verdicts:
        if baseline not in (v.model_a, v.model_b) or v.model_a == v.model_b:
            continue
        model_is_b = v.model_a == baseline
        out.append(
            ratings.Preference(
                model=v.model_b if model_is_b else v.model_a,
                prompt=v.prompt,
                preference=v.preference_b if model_is_b else 1.0 - v.preference_b,
                weight=strong_weight if v.strong else 1.0,
                length_model=v.length_b if model_is_b else v.length_a,
                length_baseline=v.length_a if model_is_b else v.length_b,
            )
        )
    return out


def winrate_compute(*, params: WinRateParams) -> dict[str, Any]:
    """Per model against the baseline: the AlpacaEval/Arena-Hard figures, the length-controlled
    win rate and Bradley–Terry ratings anchored on the baseline."""
    verdicts, named = _verdicts(params.source, params.prompt_set)
    baseline = params.baseline or _infer_baseline(verdicts, named)
    result: dict[str, Any] = {
        "kind": params.kind,
        "params": asdict(params),
        "battle_total": len(verdicts),
        "baseline": baseline,
        "rows": [],
        "bradley_terry": [],
    }
    if baseline is None:
        result["error"] = (
            "No baseline: no run of this source named one and no model faced every other; "
            "choose one with baseline=NAME."
            if verdicts
            else f"{params.source} has no pairwise verdicts."
        )
        return jsonable(result)
    records = preferences_against(verdicts, baseline, params.strong_weight)
    if not records:
        result["error"] = f"No verdict of {params.source} involves the baseline {baseline!r}."
        return jsonable(result)
    by_model: dict[str, list[Preference]] = defaultdict(list)
    for r in records:
        by_model[r.model].append(r)
    controlled = ratings.length_controlled_win_rates(
        records, bootstrap_rounds=min(params.bootstrap, 200), seed=params.seed
    )
    rows = []
    for model, prefs in by_model.items():
        summary = ratings.win_rate(
            [p.preference for p in prefs],
            weights=[p.weight for p in prefs],
            prompts=[p.prompt for p in prefs],
            bootstrap_rounds=params.bootstrap,
            seed=params.seed,
        )
        lc = controlled.get(model)
        rows.append(
            {
                "model": model,
                **summary.to_dict(),
                "strong": sum(1 for p in prefs if p.weight != 1.0),
                "with_lengths": lc.n if lc else 0,
                "length_controlled": lc.to_dict() if lc else None,
                "avg_length": statistics.fmean(p.length_model for p in prefs if p.length_model is not None)
                if any(p.length_model is not None for p in prefs)
                else None,
            }
        )
    rows.sort(key=lambda r: (-(r["win_rate"] or 0.0), r["model"]))
    bt = ratings.anchored_bradley_terry(
        records, baseline=baseline, bootstrap_rounds=params.bootstrap, seed=params.seed
    )
    result.update(rows=rows, bradley_terry=[r.to_dict() for r in bt], comparisons=len(records))
    return jsonable(result)


# --- Grades and HHH per source ---------------------------------------------------------------


@dataclass(frozen=True)
class GradesParams(ReportParams):
    """Canonical for every source and prompt set (it has no other parameter)."""

    source: str = "human"
    prompt_set: str | None = None

    kind: ClassVar[str] = "grades"

    @classmethod
    def read(cls, reader: QueryReader, *, default_source: str = "human") -> Self:
        source = read_source_of(
            reader,
            ("human", "judge", "panel"),
            "grades and HHH come from people or judges.",
            "human, judge:NAME or panel:NAME",
            default=default_source,
        )
        return cls(source=source, prompt_set=read_prompt_set(reader))

    @classmethod
    def sources_in(cls, data: Mapping[str, Any]) -> list[str]:
        """A judge's grades are shown beside the people's: it reads both."""
        sources = super().sources_in(data)
        return sources if sources == ["human"] else [*sources, "human"]

    def size(self) -> int:
        """Grades and HHH choices are not battles: people's votes and the judges' grade and HHH
        judgments, at most."""
        return verdicts_count(source="human", prompt_set=self.prompt_set) + judgments_count(
            source=self.source, prompt_set=self.prompt_set, modes=("grade", "hhh")
        )


def _human_grades(prompt_set: str | None) -> list[tuple[int, str, str]]:
    """(answer id, model, grade) for every grade raters gave."""
    qs = Vote.objects.all()
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    out = []
    for ga, gb, aa, ab, ma, mb in qs.values_list(
        "grade_a",
        "grade_b",
        "comparison__answer_a_id",
        "comparison__answer_b_id",
        "comparison__answer_a__contender__name",
        "comparison__answer_b__contender__name",
    ).iterator(5000):
        if ga:
            out.append((aa, ma, ga))
        if gb:
            out.append((ab, mb, gb))
    return out


def _judge_grades(judge: str, prompt_set: str | None) -> list[tuple[int, str, str]]:
    from judge.models import Judgment

    qs = Judgment.objects.filter(
        run__judge__name=judge, run__mode="grade", status=Judgment.Status.DONE, answer__isnull=False
    ).exclude(grade="")
    if prompt_set:
        qs = qs.filter(answer__prompt__prompt_set__slug=prompt_set)
    latest = {
        a: (a, m, g)
        for a, m, g in qs.order_by("run_id", "id")
        .values_list("answer_id", "answer__contender__name", "grade")
        .iterator(5000)
    }
    return list(latest.values())


def grades_of(source: str, prompt_set: str | None) -> list[tuple[int, str, str]]:
    kind, name = parse_source(source)
    if kind == "human":
        return _human_grades(prompt_set)
    if kind == "judge":
        return _judge_grades(name or "", prompt_set)
    if kind == "panel":
        per_answer: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for judge in panel_judges(name or ""):
            for item in _judge_grades(judge, prompt_set):
                per_answer[item[0]].append(item)
        out = []
        for answer_id, items in per_answer.items():
            grade = ratings.majority([g for _, _, g in items])
            if grade is None:  # no majority: the middle grade of the members' (the lower of two middles)
                grades = sorted(g for _, _, g in items)
                grade = grades[len(grades) // 2]
            out.append((answer_id, items[0][1], grade))
        return out
    return []


def _human_hhh(prompt_set: str | None) -> list[tuple[dict[str, str], str, str]]:
    qs = Vote.objects.all()
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    return [
        ({"helpful": h, "honest": o, "harmless": m}, a, b)
        for h, o, m, a, b in qs.values_list(
            "helpful",
            "honest",
            "harmless",
            "comparison__answer_a__contender__name",
            "comparison__answer_b__contender__name",
        ).iterator(5000)
        if h or o or m
    ]


def _judge_hhh(judge: str, prompt_set: str | None) -> list[tuple[dict[str, str], str, str, int]]:
    """Per comparison, the two orders combined per criterion: the same choice, else "same"."""
    from judge.models import Judgment

    qs = Judgment.objects.filter(
        run__judge__name=judge, run__mode="hhh", status=Judgment.Status.DONE, comparison__isnull=False
    )
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    pending: dict[tuple[int, int, int], dict[str, str]] = {}
    out = []
    for run_id, comp_id, turn, hhh, a, b in (
        qs.order_by("run_id", "comparison_id", "turn", "order")
        .values_list(
            "run_id",
            "comparison_id",
            "turn",
            "hhh",
            "comparison__answer_a__contender__name",
            "comparison__answer_b__contender__name",
        )
        .iterator(5000)
    ):
        key = (run_id, comp_id, turn)
        if key not in pending:
            pending[key] = hhh or {}
            continue
        first = pending.pop(key)
        combined = {c: (v if first.get(c) == v else "same") for c, v in (hhh or {}).items()}
        out.append((combined, a, b, comp_id))
    return out


def hhh_of(source: str, prompt_set: str | None) -> list[tuple[dict[str, str], str, str]]:
    kind, name = parse_source(source)
    if kind == "human":
        return _human_hhh(prompt_set)
    if kind == "judge":
        return [(v, a, b) for v, a, b, _ in _judge_hhh(name or "", prompt_set)]
    if kind == "panel":
        groups: dict[int, list[tuple[dict[str, str], str, str, int]]] = defaultdict(list)
        for judge in panel_judges(name or ""):
            for item in _judge_hhh(judge, prompt_set):
                groups[item[3]].append(item)
        return [
            (
                {
                    c: ratings.majority([m[0].get(c, "") for m in members], tie="same") or "same"
                    for c in ("helpful", "honest", "harmless")
                },
                members[0][1],
                members[0][2],
            )
            for members in groups.values()
        ]
    return []


def grades_compute(*, params: GradesParams) -> dict[str, Any]:
    """A–D grades and HHH shares of the source, beside the human ones, and how a judge's grades
    agree with people's on the same answers."""
    grades = grades_of(params.source, params.prompt_set)
    hhh = hhh_of(params.source, params.prompt_set)
    result: dict[str, Any] = {
        "kind": params.kind,
        "params": asdict(params),
        "battle_total": len(grades) + len(hhh),
        "grades": ratings.grade_table((m, g) for _, m, g in grades),
        "hhh": ratings.hhh_table(hhh),
        "grades_n": len(grades),
        "hhh_n": len(hhh),
        "human": None,
        "grade_agreement": None,
    }
    if params.source != "human":
        human_grades = _human_grades(params.prompt_set)
        human_hhh = _human_hhh(params.prompt_set)
        if human_grades or human_hhh:
            result["human"] = {
                "grades": ratings.grade_table((m, g) for _, m, g in human_grades),
                "hhh": ratings.hhh_table(human_hhh),
                "grades_n": len(human_grades),
                "hhh_n": len(human_hhh),
            }
        judged = {answer: grade for answer, _, grade in grades}
        pairs = [(judged[a], g) for a, _, g in human_grades if a in judged]
        result["grade_agreement"] = ratings.grade_agreement(pairs).to_dict()
    return jsonable(result)


# --- The table comparing judges ---------------------------------------------------------------


@dataclass(frozen=True)
class JudgesParams(ReportParams):
    """``source``: which judges (``all``: every judge and panel); ``human``: the people's source.

    The canonical set: each source and prompt set against the default people's source
    (``human_reference_default``)."""

    source: str = "all"
    human: str = "human"
    prompt_set: str | None = None

    kind: ClassVar[str] = "judges"
    source_fields: ClassVar[tuple[str, ...]] = ("source", "human")

    @classmethod
    def read(cls, reader: QueryReader, *, default_human: str | None = None) -> Self:
        source = read_source_of(
            reader,
            ("all", "judge", "panel"),
            "the table compares judges and panels.",
            "all, judge:NAME or panel:NAME",
            default="all",
        )
        human = read_source_of(
            reader,
            ("human", "import"),
            "the reference is the people's verdicts.",
            "human or import:NAME",
            name="human",
            default=default_human or human_reference_default(),
        )
        return cls(source=source, human=human, prompt_set=read_prompt_set(reader))

    def defaults(self) -> dict[str, Any]:
        return {**super().defaults(), "human": human_reference_default()}

    def size(self) -> int:
        """Each judge's verdicts and the people's, and every judgment of the judges (their usage)."""
        return super().size() + judgments_count(source=self.source, prompt_set=self.prompt_set)


def human_reference_default() -> str:
    """``human`` when people voted here, else an imported source of human votes, else ``human``."""
    if Vote.objects.exists():
        return "human"
    name = VerdictSource.objects.filter(is_human=True).order_by("name").values_list("name", flat=True).first()
    return f"import:{name}" if name else "human"


def _usage(judges: Sequence[str], prompt_set: str | None) -> dict[str, Any]:
    """Finished, unparsed and failed shares, tokens and cost per 1,000 judgments, median latency."""
    from judge.models import Judgment

    qs = Judgment.objects.filter(run__judge__name__in=judges).exclude(status=Judgment.Status.PENDING)
    if prompt_set:
        qs = qs.filter(run__prompt_set__slug=prompt_set)
    counts = Counter(qs.values_list("status", flat=True).iterator(5000))
    total = sum(counts.values())
    tokens = cost = 0.0
    latencies = []
    for inp, out, money, latency, cached in qs.values_list(
        "input_tokens", "output_tokens", "cost", "latency_s", "from_cache"
    ).iterator(5000):
        tokens += inp + out
        cost += float(money)
        if latency is not None and not cached:
            latencies.append(latency)
    per_k = 1000.0 / total if total else None
    return {
        "judgments": total,
        "unparsed": counts.get("unparsed", 0),
        "failed": counts.get("failed", 0),
        "unparsed_share": counts.get("unparsed", 0) / total if total else None,
        "failed_share": counts.get("failed", 0) / total if total else None,
        "tokens_per_1000": tokens * per_k if per_k else None,
        "cost_per_1000": cost * per_k if per_k else None,
        "median_latency_s": statistics.median(latencies) if latencies else None,
        "latency_n": len(latencies),
    }


def _ratings(source: str, prompt_set: str | None) -> dict[str, float]:
    from arena.ratings import compute_leaderboard

    battles = battles_list(source=source, prompt_set=prompt_set)
    if not battles:
        return {}
    try:
        board = compute_leaderboard(battles, method="bt", bootstrap_rounds=0)
    except ValueError:
        return {}
    return {r["model"]: r["rating"] for r in board.to_dict()["rows"] if r.get("rating") is not None}


def judges_compute(*, params: JudgesParams) -> dict[str, Any]:
    """AlpacaEval's evaluator table, per judge (with its template set) and panel: agreement with people (S1, S2, κ and
    the pairs they rest on), position consistency, the longer answer's share of wins, unparsed
    and failed shares, tokens and cost per 1,000 judgments, median latency, and Spearman's rho
    between its Bradley–Terry leaderboard and the people's."""
    from arena.ratings import agreement, length_bias, position_bias
    from judge.models import JudgePanel

    kind, _ = parse_source(params.source)
    if kind in ("judge", "panel"):
        sources = [params.source]
    else:
        sources = [f"judge:{j}" for j in _judge_names()]
        sources += [f"panel:{p}" for p in JudgePanel.objects.order_by("name").values_list("name", flat=True)]
    from judge.models import Judge

    templates = dict(Judge.objects.values_list("name", "template_set"))
    human_battles = battles_list(source=params.human, prompt_set=params.prompt_set)
    human_ratings = _ratings(params.human, params.prompt_set)
    rows = []
    for source in sources:
        combined = battles_list(source=source, prompt_set=params.prompt_set)
        per_order = battles_list(source=source, prompt_set=params.prompt_set, per_order=True)
        src_kind, src_name = parse_source(source)
        members = [src_name or ""] if src_kind == "judge" else panel_judges(src_name or "")
        usage = _usage(members, params.prompt_set)
        if src_kind == "panel" and usage["judgments"]:
            # A panel verdict takes one judgment from every member: its tokens and cost are theirs
            # together; members judge at once, so it waits for its slowest member.
            for name in ("tokens_per_1000", "cost_per_1000"):
                usage[name] = usage[name] * len(members) if usage[name] is not None else None
            usage["median_latency_s"] = max(
                (
                    u["median_latency_s"]
                    for u in (_usage([m], params.prompt_set) for m in members)
                    if u["median_latency_s"] is not None
                ),
                default=None,
            )
        agree = agreement(combined, human_battles).to_dict() if combined and human_battles else None
        consistency = position_bias(per_order).to_dict().get("consistency") if per_order else None
        longer = None
        if combined:
            try:
                longer = length_bias(combined).to_dict().get("longer_wins")
            except ValueError:
                longer = None
        rho, rho_n = ratings.rank_correlation(_ratings(source, params.prompt_set), human_ratings)
        rows.append(
            {
                "source": source,
                "members": members if src_kind == "panel" else [],
                "verdicts": len(combined),
                "template_set": templates.get(src_name or "") if src_kind == "judge" else None,
                "agreement": {
                    k: agree[k]
                    for k in (
                        "pairs",
                        "agreement_with_ties",
                        "pairs_without_ties",
                        "agreement_without_ties",
                        "kappa",
                    )
                }
                if agree
                else None,
                "consistency": consistency,
                "longer_wins": longer,
                **usage,
                "rank_correlation": rho,
                "rank_correlation_n": rho_n,
            }
        )
    return jsonable(
        {
            "kind": params.kind,
            "params": asdict(params),
            "battle_total": len(human_battles),
            "human_verdicts": len(human_battles),
            "rows": rows,
        }
    )


# --- Registry used by the snapshot service ---------------------------------------------------

EVALUATION_PARAMS: tuple[type[ReportParams], ...] = (ScoresParams, WinRateParams, GradesParams, JudgesParams)


def evaluation_compute(*, params: Any) -> dict[str, Any]:
    if isinstance(params, ScoresParams):
        return scores_compute(params=params)
    if isinstance(params, WinRateParams):
        return winrate_compute(params=params)
    if isinstance(params, GradesParams):
        return grades_compute(params=params)
    return judges_compute(params=params)


# --- Flat rows: the CSV export and the command-line table read these --------------------------


def _score_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["model", "overall", "overall_ci_low", "overall_ci_high", "n", "unparsed"]
    turns = [str(t) for t in result.get("turns") or []]
    categories = result.get("categories") or []
    for t in turns:
        header += [f"turn_{t}", f"turn_{t}_ci_low", f"turn_{t}_ci_high", f"turn_{t}_n"]
    header += [f"category_{c}" for c in categories]
    rows = []
    for r in result.get("rows") or []:
        o = r["overall"]
        row = [r["model"], o["mean"], o["ci_low"], o["ci_high"], o["n"], o["unparsed"]]
        for t in turns:
            s = r["turns"].get(t) or {}
            row += [s.get("mean"), s.get("ci_low"), s.get("ci_high"), s.get("n")]
        row += [(r["categories"].get(c) or {}).get("mean") for c in categories]
        rows.append(row)
    return header, rows


WINRATE_FIELDS = (
    "model",
    "win_rate",
    "standard_error",
    "ci_low",
    "ci_high",
    "n",
    "n_wins",
    "n_losses",
    "n_draws",
    "discrete_win_rate",
    "strong",
    "weighted_n",
    "length_controlled_win_rate",
    "lc_ci_low",
    "lc_ci_high",
    "lc_formula",
    "avg_length",
    "bt_rating",
    "bt_ci_low",
    "bt_ci_high",
)


def _winrate_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    bt = {r["model"]: r for r in result.get("bradley_terry") or []}
    rows = []
    for r in result.get("rows") or []:
        lc = r.get("length_controlled") or {}
        b = bt.get(r["model"]) or {}
        flat = {
            **r,
            "length_controlled_win_rate": lc.get("length_controlled_win_rate"),
            "lc_ci_low": lc.get("ci_low"),
            "lc_ci_high": lc.get("ci_high"),
            "lc_formula": lc.get("formula"),
            "bt_rating": b.get("rating"),
            "bt_ci_low": b.get("ci_low"),
            "bt_ci_high": b.get("ci_high"),
        }
        rows.append([flat.get(f) for f in WINRATE_FIELDS])
    return list(WINRATE_FIELDS), rows


def _grade_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "who",
        "table",
        "model",
        "A",
        "B",
        "C",
        "D",
        "total",
        "share_ab",
        "wins",
        "losses",
        "same",
        "n",
        "win_rate",
    ]
    rows = []
    sides = [("source", result)] + ([("human", result["human"])] if result.get("human") else [])
    for who, side in sides:
        for g in side.get("grades") or []:
            rows.append(
                [
                    who,
                    "grades",
                    g["model"],
                    g["A"],
                    g["B"],
                    g["C"],
                    g["D"],
                    g["total"],
                    g["share_ab"],
                    None,
                    None,
                    None,
                    None,
                    None,
                ]
            )
        for criterion, board in (side.get("hhh") or {}).items():
            for r in board:
                rows.append(
                    [
                        who,
                        criterion,
                        r["model"],
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        r["wins"],
                        r["losses"],
                        r["same"],
                        r["n"],
                        r["win_rate"],
                    ]
                )
    return header, rows


JUDGE_FIELDS = (
    "source",
    "template_set",
    "verdicts",
    "s1",
    "s2",
    "kappa",
    "agreement_pairs",
    "consistency",
    "consistency_n",
    "longer_wins",
    "longer_wins_ci_low",
    "longer_wins_ci_high",
    "longer_wins_n",
    "judgments",
    "unparsed_share",
    "failed_share",
    "tokens_per_1000",
    "cost_per_1000",
    "median_latency_s",
    "rank_correlation",
    "rank_correlation_n",
)


def judge_row_flat(r: Mapping[str, Any]) -> dict[str, Any]:
    agree = r.get("agreement") or {}
    consistency = r.get("consistency") or {}
    longer = r.get("longer_wins") or {}
    return {
        **r,
        "s1": agree.get("agreement_with_ties"),
        "s2": agree.get("agreement_without_ties"),
        "kappa": agree.get("kappa"),
        "agreement_pairs": agree.get("pairs"),
        "consistency": consistency.get("consistency"),
        "consistency_n": consistency.get("pairs"),
        "longer_wins": longer.get("share"),
        "longer_wins_ci_low": longer.get("ci_low"),
        "longer_wins_ci_high": longer.get("ci_high"),
        "longer_wins_n": longer.get("trials"),
    }


def _judge_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    return list(JUDGE_FIELDS), [
        [judge_row_flat(r).get(f) for f in JUDGE_FIELDS] for r in result.get("rows") or []
    ]


def flat_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A report's main table as a header and rows (CSV and the commands' tables)."""
    return {"scores": _score_rows, "winrate": _winrate_rows, "grades": _grade_rows, "judges": _judge_rows}[
        result["kind"]
    ](result)
