"""The comparisons behind the numbers (FastChat's MT-Bench browser, Arena-Hard's QA browser).

A comparison here is one prompt turn and one pair of contenders, whoever judged it: the page shows
the prompt, both answers, every judge's explanation in both orders, the people's votes, imported
verdicts, and the reference answer. Filters: a source that judged it, a model (and its opponent),
prompt set, category, turn, and disagreement — a judge against people (``human``) or a judge's
two presentation orders against each other (``orders``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q

from arena import ratings  # names load on first use: URL conf and start-up stay free of NumPy
from arena.models import Answer, Comparison, Contender, ImportedVerdict, Prompt, Vote
from arena.params import CONFLICT, NOT_FOUND, QueryReader, shown
from reports.selectors.battles import parse_source
from reports.selectors.evaluations import CONTENDER_NAME_MAX_LENGTH, read_source_of
from reports.selectors.leaderboards import read_category, read_prompt_set, read_source
from reports.selectors.panels import panel_judges

PAGE_SIZE = 20
DISAGREEMENTS = ("human", "orders")
Key = tuple[int, int, int, int]  # prompt id, turn, contender ids (low, high)


@dataclass(frozen=True)
class ComparisonFilters:
    source: str | None = None
    a: str | None = None
    b: str | None = None
    prompt_set: str | None = None
    category: str | None = None
    turn: int | None = None
    disagreement: str | None = None
    human: str = "human"
    page: int = 1

    @classmethod
    def from_query(cls, data: Mapping[str, Any]) -> ComparisonFilters:
        """Validate the page's query through the one parameter layer; ``ParamError`` names every
        bad parameter."""
        reader = QueryReader(data, allowed=[f.name for f in fields(cls)])
        source = read_source(reader, default="all") if reader.given("source") else None
        models = {}
        allowed = "a contender's name, or nothing for any model"
        for name in ("a", "b"):
            model = models[name] = reader.text(name, max_length=CONTENDER_NAME_MAX_LENGTH, allowed=allowed)
            if model and not Contender.objects.filter(name=model).exists():
                reader.fail(name, NOT_FOUND, f"No contender named {shown(model)}.", allowed)
        disagreement = reader.choice("disagreement", "", DISAGREEMENTS) or None
        source_kind = parse_source(source)[0] if source and not reader.failed("source") else None
        if disagreement and source_kind not in ("judge", "panel", "import") and not reader.failed("source"):
            reader.fail(
                "disagreement",
                CONFLICT,
                "A disagreement filter needs a judge, panel or imported source.",
                "human or orders, with source=judge:NAME, panel:NAME or import:NAME",
            )
        elif disagreement == "orders" and source_kind == "import":
            reader.fail(
                "disagreement",
                CONFLICT,
                "Imported verdicts carry no per-order verdicts here.",
                "orders with source=judge:NAME or panel:NAME",
            )
        human = read_source_of(
            reader,
            ("human", "import"),
            "the reference is the people's verdicts.",
            "human or import:NAME",
            name="human",
            default="human",
        )
        filters = cls(
            source=source,
            a=models["a"],
            b=models["b"],
            prompt_set=read_prompt_set(reader),
            category=read_category(reader),
            turn=reader.optional_integer("turn", minimum=1, maximum=100),
            disagreement=disagreement,
            human=human,
            page=reader.integer("page", 1, minimum=1, maximum=100000),
        )
        reader.finish()
        return filters

    @property
    def base_query(self) -> str:
        """The filters as a query string, without the page (the pager adds it)."""
        values = {k: v for k, v in self.__dict__.items() if k != "page" and v not in (None, "")}
        if values.get("human") == "human":
            values.pop("human")
        return urlencode(values)


@dataclass
class ComparisonView:
    prompt: Prompt
    turn: int
    answers: list[Answer | None]
    judgments: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    imported: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reference(self) -> str | None:
        refs = self.prompt.references or []
        return refs[self.turn - 1] if len(refs) >= self.turn and refs[self.turn - 1] else None

    @property
    def question(self) -> str:
        return self.prompt.turns[self.turn - 1] if len(self.prompt.turns) >= self.turn else ""


@dataclass
class ComparisonsPage:
    items: list[ComparisonView]
    total: int
    page: int
    pages: int


def contender_names() -> list[str]:
    return list(Contender.objects.order_by("name").values_list("name", flat=True))


def _key(prompt_id: int, turn: int, x: int, y: int) -> Key:
    low, high = sorted((x, y))
    return prompt_id, turn, low, high


def _judge_names(source: str | None) -> list[str] | None:
    if source is None:
        return None
    kind, name = parse_source(source)
    if kind == "judge":
        return [name or ""]
    if kind == "panel":
        return panel_judges(name or "")
    return None


def _judgment_rows(judges: list[str] | None, keys_q: Q) -> list[tuple[Any, ...]]:
    from judge.models import Judgment

    qs = (
        Judgment.objects.filter(comparison__isnull=False, status=Judgment.Status.DONE)
        .exclude(winner="")
        .filter(keys_q)
    )
    if judges is not None:
        qs = qs.filter(run__judge__name__in=judges)
    return list(
        qs.values_list(
            "comparison__prompt_id",
            "turn",
            "comparison__answer_a__contender_id",
            "comparison__answer_b__contender_id",
            "run_id",
            "order",
            "winner",
        )
    )


def _filter_q(filters: ComparisonFilters, prefix: str, con_a: str, con_b: str, turn: str) -> Q:
    q = Q()
    if filters.prompt_set:
        q &= Q(**{f"{prefix}prompt_set__slug": filters.prompt_set})
    if filters.category:
        q &= Q(**{f"{prefix}category": filters.category})
    if filters.turn:
        q &= Q(**{turn: filters.turn})
    for model in (filters.a, filters.b):
        if model:
            q &= Q(**{f"{con_a}__name": model}) | Q(**{f"{con_b}__name": model})
    return q


def _winner_contender(winner: str, a: int, b: int) -> int | str:
    return a if winner == "model_a" else b if winner == "model_b" else "tie"


def _candidate_keys(filters: ComparisonFilters) -> dict[Key, dict[str, Any]]:
    """Every comparison the filters select, with what the disagreement filters need."""
    kind, source_name = parse_source(filters.source or "all")
    keys: dict[Key, dict[str, Any]] = {}
    judges = _judge_names(filters.source)
    if kind in ("judge", "panel") or kind == "all":
        q = _filter_q(
            filters,
            "comparison__prompt__",
            "comparison__answer_a__contender",
            "comparison__answer_b__contender",
            "turn",
        )
        for pid, turn, a, b, run_id, order, winner in _judgment_rows(judges, q):
            entry = keys.setdefault(_key(pid, turn, a, b), {"orders": defaultdict(dict), "verdicts": []})
            entry["orders"][run_id][order] = _winner_contender(winner, a, b)
    if kind in ("human", "all"):
        q = _filter_q(
            filters,
            "comparison__prompt__",
            "comparison__answer_a__contender",
            "comparison__answer_b__contender",
            "comparison__turn",
        )
        for pid, turn, a, b in Vote.objects.filter(q).values_list(
            "comparison__prompt_id",
            "comparison__turn",
            "comparison__answer_a__contender_id",
            "comparison__answer_b__contender_id",
        ):
            keys.setdefault(_key(pid, turn, a, b), {"orders": defaultdict(dict), "verdicts": []})
    if kind == "import":
        q = _filter_q(filters, "prompt__", "model_a", "model_b", "turn") & Q(prompt__isnull=False)
        for pid, turn, a, b, winner in (
            ImportedVerdict.objects.filter(q, source__name=source_name)
            .exclude(winner="")
            .values_list("prompt_id", "turn", "model_a_id", "model_b_id", "winner")
        ):
            entry = keys.setdefault(_key(pid, turn, a, b), {"orders": defaultdict(dict), "verdicts": []})
            entry["verdicts"].append(_winner_contender(winner, a, b))
    return keys


def _human_verdicts(filters: ComparisonFilters, keys: set[Key]) -> dict[Key, list[int | str]]:
    out: dict[Key, list[int | str]] = defaultdict(list)
    kind, name = parse_source(filters.human)
    rows: Iterable[tuple[int, int, int, int, str]]
    if kind == "human":
        rows = Vote.objects.filter(
            _filter_q(
                filters,
                "comparison__prompt__",
                "comparison__answer_a__contender",
                "comparison__answer_b__contender",
                "comparison__turn",
            )
        ).values_list(
            "comparison__prompt_id",
            "comparison__turn",
            "comparison__answer_a__contender_id",
            "comparison__answer_b__contender_id",
            "winner",
        )
    else:
        rows = (
            ImportedVerdict.objects.filter(source__name=name, prompt__isnull=False)
            .exclude(winner="")
            .values_list("prompt_id", "turn", "model_a_id", "model_b_id", "winner")
        )
    for pid, turn, a, b, winner in rows:
        key = _key(pid, turn, a, b)
        if key in keys:
            out[key].append(_winner_contender(winner, a, b))
    return out


def _source_verdict(entry: dict[str, Any]) -> int | str | None:
    """The source's own verdict on a comparison: each run's two orders combined (agreeing, else a
    tie), then the majority over its runs and imported verdicts."""
    verdicts = list(entry["verdicts"])
    for orders in entry["orders"].values():
        if len(orders) == 2:
            verdicts.append(orders[1] if orders[1] == orders[2] else "tie")
        elif orders:
            verdicts.append(next(iter(orders.values())))
    return ratings.majority(verdicts, tie="tie")


def comparisons_page(*, filters: ComparisonFilters) -> ComparisonsPage:
    keys = _candidate_keys(filters)
    if filters.disagreement == "orders":
        keys = {
            k: e for k, e in keys.items() if any(len(o) == 2 and o[1] != o[2] for o in e["orders"].values())
        }
    elif filters.disagreement == "human":
        humans = _human_verdicts(filters, set(keys))
        keys = {
            k: e
            for k, e in keys.items()
            if humans.get(k) and _source_verdict(e) not in (None, ratings.majority(humans[k], tie="tie"))
        }
    ordered = sorted(keys)
    total = len(ordered)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(filters.page, pages)
    chosen = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return ComparisonsPage(_views(chosen), total, page, pages)


def _views(keys: list[Key]) -> list[ComparisonView]:
    from judge.models import Judgment

    if not keys:
        return []
    prompt_ids = {k[0] for k in keys}
    prompts = {p.pk: p for p in Prompt.objects.filter(pk__in=prompt_ids).select_related("prompt_set")}
    answers = {
        (a.prompt_id, a.contender_id): a
        for a in Answer.objects.filter(prompt_id__in=prompt_ids).select_related("contender")
    }
    names = dict(Contender.objects.values_list("id", "name"))
    views = {
        k: ComparisonView(prompts[k[0]], k[1], [answers.get((k[0], k[2])), answers.get((k[0], k[3]))])
        for k in keys
    }
    comparisons = Comparison.objects.filter(prompt_id__in=prompt_ids).values_list(
        "id", "prompt_id", "turn", "answer_a__contender_id", "answer_b__contender_id"
    )
    comp_key = {cid: _key(pid, turn, a, b) for cid, pid, turn, a, b in comparisons}
    wanted = [cid for cid, k in comp_key.items() if k in views]
    for cid, judge, mode, order, winner, strong, preference, raw, shown_a in (
        Judgment.objects.filter(comparison_id__in=wanted)
        .exclude(status=Judgment.Status.PENDING)
        .order_by("run__judge__name", "comparison_id", "order")
        .values_list(
            "comparison_id",
            "run__judge__name",
            "run__mode",
            "order",
            "winner",
            "strong",
            "preference",
            "raw_output",
            "comparison__answer_a__contender_id",
        )
    ):
        key = comp_key[cid]
        first = shown_a if order == 1 else (key[3] if shown_a == key[2] else key[2])
        views[key].judgments.append(
            {
                "judge": judge,
                "mode": mode,
                "order": order,
                "first_shown": names.get(first),
                "winner": _named(winner, cid, comp_key, names, shown_a),
                "strong": strong,
                "preference": preference,
                "explanation": raw,
            }
        )
    for cid, winner, rater_id, a in Vote.objects.filter(comparison_id__in=wanted).values_list(
        "comparison_id", "winner", "rater_id", "comparison__answer_a__contender_id"
    ):
        views[comp_key[cid]].votes.append(
            {
                "source": "human",
                "rater": f"rater {rater_id}",
                "winner": _named(winner, cid, comp_key, names, a),
                "explanation": "",
            }
        )
    q = Q()
    for pid, turn, low, high in keys:
        q |= Q(prompt_id=pid, turn=turn, model_a_id__in=(low, high), model_b_id__in=(low, high))
    for pid, turn, a, b, winner, source, human, rater, raw in ImportedVerdict.objects.filter(q).values_list(
        "prompt_id",
        "turn",
        "model_a_id",
        "model_b_id",
        "winner",
        "source__name",
        "source__is_human",
        "rater",
        "raw_output",
    )[:2000]:
        key = _key(pid, turn, a, b)
        if key in views:
            verdict = {
                "source": f"import:{source}",
                "rater": rater,
                "winner": names.get(a)
                if winner == "model_a"
                else names.get(b)
                if winner == "model_b"
                else (winner or "unparsed"),
                "explanation": raw,
            }
            (views[key].votes if human else views[key].imported).append(verdict)
    return [views[k] for k in keys]


def _named(
    winner: str, cid: int, comp_key: dict[int, Key], names: dict[int, str], answer_a_contender: int | None
) -> str:
    if winner not in ("model_a", "model_b"):
        return winner or "unparsed"
    low, high = comp_key[cid][2], comp_key[cid][3]
    a = answer_a_contender if answer_a_contender is not None else low
    b = high if a == low else low
    return names.get(a if winner == "model_a" else b, "?")
