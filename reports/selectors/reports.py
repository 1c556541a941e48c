"""Reading the trust reports: position and length bias, agreement between sources, agreement
among human raters, A-D grade distributions and HHH per-criterion leaderboards.

Verdicts are read as labelled arrays (``battle_columns.battle_arrays``) like every rating; the grade and HHH tables read the
optional fields of human ``Vote`` rows, which are not battles. Results are JSON-ready dicts,
stored as ``RatingSnapshot`` rows under ``BiasParams.key`` / ``AgreementParams.key``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from arena.models import Vote
from arena.params import CONFLICT, NOT_CHOICE, ParamError, QueryReader, shown
from reports.selectors.battles import BattleFilter, parse_source
from reports.selectors.leaderboards import (
    ReportParams,
    jsonable,
    read_prompt_set,
    read_rater_quality,
    read_source,
    sources_available,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from arena.ratings import BattleArrays

GRADES = ("A", "B", "C", "D")
HHH_CRITERIA = ("helpful", "honest", "harmless")


@dataclass(frozen=True)
class BiasParams(ReportParams):
    source: str = "human"
    prompt_set: str | None = None
    rater_quality: str = "clean"  # human votes: as on the leaderboard

    kind: ClassVar[str] = "bias"  # canonical for every source, prompt set and rater quality

    @classmethod
    def read(cls, reader: QueryReader, *, default_source: str = "human") -> BiasParams:
        return cls(
            source=read_source(reader, default=default_source),
            prompt_set=read_prompt_set(reader),
            rater_quality=read_rater_quality(reader),
        )

    def defaults(self) -> dict[str, Any]:
        values = super().defaults()
        values.pop("rater_quality", None)  # both values are canonical
        return values


@dataclass(frozen=True)
class AgreementParams(ReportParams):
    """Two sources (``a == b``: agreement among the raters of one source, MT-Bench's human-human
    counting), optionally only the raters whose name starts with ``raters`` (``expert``)."""

    a: str
    b: str
    prompt_set: str | None = None
    raters: str | None = None
    bootstrap: int = 1000
    seed: int = 0
    rater_quality: str = "clean"  # human votes: as on the leaderboard

    kind: ClassVar[str] = "agreement"
    # The canonical set: the page's default pair of sources, on each prompt set.
    chosen: ClassVar[tuple[str, ...]] = ("prompt_set",)
    source_fields: ClassVar[tuple[str, ...]] = ("a", "b")

    @classmethod
    def read(
        cls, reader: QueryReader, *, default_a: str | None = None, default_b: str | None = None
    ) -> AgreementParams:
        from django.conf import settings

        if default_a is None and default_b is None and not reader.given("a") and not reader.given("b"):
            default_a, default_b = agreement_default_pair()  # the API and the command: as the page
        a = read_source(reader, "a", default=default_a)
        b = read_source(reader, "b", default=default_b)
        raters = reader.text(
            "raters", max_length=100, allowed="the start of the rater names to keep (expert) or nothing"
        )
        if raters and a != b and not reader.failed("a") and not reader.failed("b"):
            reader.fail(
                "raters",
                CONFLICT,
                "Choosing raters needs one source (a equal to b).",
                "nothing when a and b differ",
            )
        return cls(
            a=a,
            b=b,
            prompt_set=read_prompt_set(reader),
            raters=raters,
            bootstrap=reader.integer(
                "bootstrap",
                settings.ARENA_BOOTSTRAP_ROUNDS,
                minimum=0,
                maximum=settings.ARENA_MAX_BOOTSTRAP_ROUNDS,
            ),
            seed=reader.integer("seed", cls.seed, minimum=0, maximum=2**32 - 1),
            rater_quality=read_rater_quality(reader),
        )

    def defaults(self) -> dict[str, Any]:
        values = super().defaults()
        values.pop("rater_quality", None)  # both values are canonical
        return values

    def is_canonical(self) -> bool:
        return (
            (self.a, self.b) == agreement_default_pair()
            and self.raters is None
            and self == replace(self, **self.defaults())
        )


def report_classes() -> dict[str, type[ReportParams]]:
    """Every kind of snapshot and its parameter class."""
    from reports.selectors.evaluations import EVALUATION_PARAMS
    from reports.selectors.leaderboards import LeaderboardParams

    classes: tuple[type[ReportParams], ...] = (
        LeaderboardParams,
        BiasParams,
        AgreementParams,
        *EVALUATION_PARAMS,
    )
    return {c.kind: c for c in classes}


def params_from_key(key: str) -> Any:
    """The parameters a snapshot key stands for (validated again: sources may be gone)."""
    from reports.selectors.leaderboards import key_split

    kind, data = key_split(key)
    classes = report_classes()
    if kind not in classes:
        raise ParamError.one(
            "key", NOT_CHOICE, f"Unknown snapshot kind {shown(kind)}.", ", ".join(sorted(classes))
        )
    return classes[kind].from_query(data)


# --- Bias -------------------------------------------------------------------------------------


def grade_distribution(*, prompt_set: str | None = None) -> list[dict[str, Any]]:
    """Per model, how many A/B/C/D grades human raters gave its answers (Self-Instruct scale)."""
    qs = Vote.objects.all()
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    rows = qs.values_list(
        "grade_a", "grade_b", "comparison__answer_a__contender__name", "comparison__answer_b__contender__name"
    )
    for grade_a, grade_b, model_a, model_b in rows.iterator(5000):
        if grade_a:
            counts[model_a][grade_a] += 1
        if grade_b:
            counts[model_b][grade_b] += 1
    table: list[dict[str, Any]] = []
    for model, counter in counts.items():
        total = sum(counter.values())
        table.append(
            {
                "model": model,
                "total": total,
                **{g: counter[g] for g in GRADES},
                "share_ab": (counter["A"] + counter["B"]) / total if total else None,
            }
        )
    table.sort(key=lambda r: (-(r["share_ab"] or 0), r["model"]))
    return table


def hhh_leaderboards(*, prompt_set: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per criterion (helpful, honest, harmless): each model's wins, losses and "the same"
    answers from human votes, ranked by win rate with "the same" counting half."""
    qs = Vote.objects.all()
    if prompt_set:
        qs = qs.filter(comparison__prompt__prompt_set__slug=prompt_set)
    tallies: dict[str, dict[str, Counter[str]]] = {c: defaultdict(Counter) for c in HHH_CRITERIA}
    rows = qs.values_list(
        *HHH_CRITERIA, "comparison__answer_a__contender__name", "comparison__answer_b__contender__name"
    )
    for *verdicts, model_a, model_b in rows.iterator(5000):
        for criterion, verdict in zip(HHH_CRITERIA, verdicts, strict=True):
            if verdict == "model_a":
                tallies[criterion][model_a]["wins"] += 1
                tallies[criterion][model_b]["losses"] += 1
            elif verdict == "model_b":
                tallies[criterion][model_b]["wins"] += 1
                tallies[criterion][model_a]["losses"] += 1
            elif verdict == "same":
                tallies[criterion][model_a]["same"] += 1
                tallies[criterion][model_b]["same"] += 1
    boards: dict[str, list[dict[str, Any]]] = {}
    for criterion, per_model in tallies.items():
        rows_out: list[dict[str, Any]] = []
        for model, c in per_model.items():
            n = c["wins"] + c["losses"] + c["same"]
            rows_out.append(
                {
                    "model": model,
                    "wins": c["wins"],
                    "losses": c["losses"],
                    "same": c["same"],
                    "votes": n,
                    "win_rate": (c["wins"] + 0.5 * c["same"]) / n if n else None,
                }
            )
        rows_out.sort(key=lambda r: (-(r["win_rate"] or 0), r["model"]))
        for rank, row in enumerate(rows_out, start=1):
            row["rank"] = rank
        boards[criterion] = rows_out
    return boards


def _section(compute: Callable[[BattleArrays], Any], battles: BattleArrays) -> dict[str, Any] | None:
    """One report section, or why it could not be computed (a singular fit on tiny data)."""
    if not battles:
        return None
    try:
        return compute(battles).to_dict()
    except ValueError as exc:  # numpy's LinAlgError included
        return {"error": f"Could not be computed on these verdicts: {exc}"}


def combined_order_sources(params: BiasParams) -> dict[str, Any]:
    """Imported sources whose verdicts each combine the judge's two presentation orders, known
    by the inconsistency flags they carry on single verdicts (MT-Bench's ``gpt4_pair``: "tie
    (inconsistent)"), with their verdicts and flags under these filters."""
    from django.db.models import Count, Q

    from arena.models import ImportedVerdict
    from arena.ratings.bias import CombinedOrders
    from reports.selectors.battles import IMPORT_PREFIX, filter_prompts

    kind, name = parse_source(params.source)
    if kind not in ("import", "all"):
        return {}
    flagged_sources = ImportedVerdict.objects.filter(judged_order=0, metadata__inconsistent=True)
    if name:
        flagged_sources = flagged_sources.filter(source__name=name)
    names = set(flagged_sources.values_list("source__name", flat=True).distinct())
    if not names:
        return {}
    qs = ImportedVerdict.objects.exclude(winner="").filter(source__name__in=names)
    if params.prompt_set:
        qs = filter_prompts(qs, BattleFilter(params.source, params.prompt_set), "prompt")
    counts = qs.values("source__name").annotate(
        n=Count("id"), flagged=Count("id", filter=Q(metadata__inconsistent=True))
    )
    return {
        f"{IMPORT_PREFIX}{row['source__name']}": CombinedOrders(row["n"], row["flagged"]) for row in counts
    }


def _length_section(battles: BattleArrays) -> dict[str, Any] | None:
    from arena.ratings.bias import length_bias, length_table

    if not battles:
        return None
    try:
        return length_table(length_bias(battles))
    except ValueError as exc:  # numpy's LinAlgError included
        return {"error": f"Could not be computed on these verdicts: {exc}"}


def bias_compute(*, params: BiasParams) -> dict[str, Any]:
    """The bias report, one table per question: position bias (the first-shown answer's share of
    decisive verdicts, only where the shown order is recorded), length bias, the consistency of
    judges across the two orders (imported inconsistency flags included), the data's provenance
    caveats, agreement among raters of the same comparison, and for human votes the A-D grades
    and HHH tables. No verdicts at all is an error (the API answers 422, the command fails)."""
    from arena.ratings import inter_rater_agreement
    from arena.ratings.bias import consistency_table, position_table, provenance_caveats
    from reports.selectors.battle_columns import battle_arrays

    kind, _ = parse_source(params.source)
    clean = params.rater_quality == "clean"
    per_order = battle_arrays(
        BattleFilter(params.source, params.prompt_set, per_order=True, clean_raters=clean),
        labels=True,
        style=True,
    )
    # Only judges' verdicts differ between one battle per order and the orders combined.
    combined = (
        per_order
        if kind in ("human", "import", "live")
        else battle_arrays(
            BattleFilter(params.source, params.prompt_set, clean_raters=clean), labels=True, style=True
        )
    )
    result: dict[str, Any] = {"kind": params.kind, "params": asdict(params), "battle_total": per_order.total}
    if not per_order.arrays:
        result["error"] = (
            f"No verdicts from {params.source}"
            f"{f' on {params.prompt_set}' if params.prompt_set else ''}: there is no bias to measure."
        )
        return jsonable(result)
    together = combined_order_sources(params)
    result.update(
        {
            "caveats": provenance_caveats(per_order.arrays, together),
            "position": position_table(per_order.arrays, together),
            "length": _length_section(combined.arrays),
            "consistency": consistency_table(per_order.arrays, together),
            "inter_rater": _section(inter_rater_agreement, combined.arrays),
            "grades": [],
            "hhh": {},
        }
    )
    if kind in ("human", "all"):
        result["grades"] = grade_distribution(prompt_set=params.prompt_set)
        result["hhh"] = hhh_leaderboards(prompt_set=params.prompt_set)
    return jsonable(result)


# --- Agreement ----------------------------------------------------------------------------------

AGREEMENT_FIELDS = (
    "comparisons",
    "pairs",
    "agreeing",
    "agreement_with_ties",
    "pairs_without_ties",
    "agreeing_without_ties",
    "agreement_without_ties",
    "kappa",
)


def agreement_compute(*, params: AgreementParams) -> dict[str, Any]:
    """Agreement between two sources on the comparisons both judged: MT-Bench's S1
    (``agreement_with_ties``), S2 (``agreement_without_ties``) and Cohen's kappa, with every
    verdict of one source paired with every verdict of the other; overall and per turn."""
    from django.conf import settings

    from arena.ratings import agreement, within_source_agreement
    from reports.selectors.battle_columns import battle_arrays, battle_arrays_together

    clean = params.rater_quality == "clean"
    if params.a == params.b:  # within one source: every pair of different raters (MT-Bench's human-human)
        # A judge's raters are its runs: a judge with itself across repeated runs.
        read_a = read_b = battle_arrays(
            BattleFilter(params.a, params.prompt_set, clean_raters=clean, judge_runs_as_raters=True),
            labels=True,
        )
        labels = read_a.arrays.labels
        chosen = None
        if params.raters and labels is not None:
            chosen = [name for name in labels.raters if name.startswith(params.raters)]
        report = within_source_agreement(
            read_a.arrays, raters=chosen, rounds=params.bootstrap, seed=params.seed
        ).to_dict()
    else:
        read_a, read_b = battle_arrays_together(
            BattleFilter(params.a, params.prompt_set, clean_raters=clean),
            BattleFilter(params.b, params.prompt_set, clean_raters=clean),
        )
        report = agreement(read_a.arrays, read_b.arrays, rounds=params.bootstrap, seed=params.seed).to_dict()
    per_turn = [
        {"turn": int(turn), **{k: v for k, v in turn_report.items() if k != "by_turn"}}
        for turn, turn_report in sorted(report.pop("by_turn").items(), key=lambda item: int(item[0]))
    ]
    result = {
        "kind": params.kind,
        "params": asdict(params),
        "battle_total": read_a.total + read_b.total,
        "battles_a": read_a.total,
        "battles_b": read_b.total,
        "overall": report,
        "per_turn": per_turn,
        "within_source": params.a == params.b,
        "min_pairs": settings.ARENA_AGREEMENT_MIN_PAIRS,
        "judge_runs_as_raters": params.a == params.b and parse_source(params.a)[0] in ("judge", "all"),
    }
    if report["pairs"] < settings.ARENA_AGREEMENT_MIN_PAIRS:
        result["error"] = (
            f"Only {report['pairs']} verdict pair{'s' if report['pairs'] != 1 else ''} on "
            f"{report['comparisons']} shared comparison{'s' if report['comparisons'] != 1 else ''}: "
            f"agreement needs at least {settings.ARENA_AGREEMENT_MIN_PAIRS} pairs to say anything."
        )
    return jsonable(result)


AGREEMENT_PAIR_CACHE_KEY = "arena:agreement-default-pair"


def shared_comparisons(sources: Sequence[str]) -> dict[tuple[str, str], int]:
    """For each pair of different sources (``human``, ``judge:NAME``, ``import:NAME``), how many
    comparisons (prompt, turn, unordered pair of models) both judged. Panels and live battles
    are left out: a panel shares its judges' comparisons, live prompts belong to no set."""
    from arena.models import ImportedVerdict
    from judge.models import Judgment

    keys: dict[str, set[tuple[int, int, int, int]]] = {}
    for source in sources:
        kind, name = parse_source(source)
        rows: QuerySet[Any, tuple[int, int, int, int]]
        if kind == "human":
            rows = Vote.objects.values_list(
                "comparison__prompt_id",
                "comparison__turn",
                "comparison__answer_a__contender_id",
                "comparison__answer_b__contender_id",
            )
        elif kind == "judge":
            rows = Judgment.objects.filter(
                run__judge__name=name, status=Judgment.Status.DONE, comparison__isnull=False
            ).values_list(
                "comparison__prompt_id",
                "comparison__turn",
                "comparison__answer_a__contender_id",
                "comparison__answer_b__contender_id",
            )
        elif kind == "import":
            rows = ImportedVerdict.objects.filter(source__name=name, prompt__isnull=False).values_list(
                "prompt_id", "turn", "model_a_id", "model_b_id"
            )
        else:
            continue
        keys[source] = {(p, t, min(x, y), max(x, y)) for p, t, x, y in rows.distinct().iterator()}
    names = list(keys)
    return {
        (names[i], names[j]): len(keys[names[i]] & keys[names[j]])
        for i in range(len(names))
        for j in range(i + 1, len(names))
    }


def agreement_default_pair() -> tuple[str | None, str | None]:
    """The agreement page's (and API's and command's) first pair: the two sources with the most
    shared comparisons (ties: the order of ``sources_available``), people's source first; without
    any shared comparison, ``default_sources``. Cached with the list of sources (dropped when
    verdicts arrive)."""
    from django.conf import settings
    from django.core.cache import cache

    cached = cache.get(AGREEMENT_PAIR_CACHE_KEY)
    if cached is not None:
        return cached[0], cached[1]
    sources = sources_available()
    shared = shared_comparisons(sources)
    best = max(shared.items(), key=lambda item: item[1], default=None)  # max keeps the first of equals
    pair = default_sources(best[0]) if best is not None and best[1] > 0 else default_sources(sources)
    cache.set(AGREEMENT_PAIR_CACHE_KEY, list(pair), settings.ARENA_SOURCES_CACHE_SECONDS)
    return pair[0], pair[1]


def default_sources(sources: Sequence[str]) -> tuple[str | None, str | None]:
    """A sensible first pair for the agreement page: people against a judge when both exist."""
    human = [s for s in sources if s == "human" or "human" in s]
    other = [s for s in sources if s not in human]
    first = human[0] if human else sources[0] if sources else None
    rest = [s for s in (other or sources) if s != first]
    return first, (rest[0] if rest else None)
