"""Reading leaderboards: the filters a leaderboard is asked for, computing one from battles, and
reading the cached ``RatingSnapshot`` that pages and the API serve.

A leaderboard is identified by its parameters; ``LeaderboardParams.key`` is their canonical
form and the ``RatingSnapshot.key`` it is stored under. The management command, the API and
the page all parse their input through ``LeaderboardParams.from_query`` so they accept and
refuse the same things.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef

from arena.models import ImportedVerdict, Prompt, PromptSet, RatingSnapshot, VerdictSource, Vote
from arena.selectors.battles import BattleFilter, UnknownSource, parse_source

METHODS = ("elo", "bt")
SOURCES_CACHE_KEY = "arena:sources"


class ParamError(ValueError):
    """A request parameter Arena cannot use; ``field`` names it for a 400 answer."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- Parsing helpers shared by every report's parameters ------------------------------------

def _int(data: Mapping[str, Any], name: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParamError(name, f"{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ParamError(name, f"{name} must be between {minimum} and {maximum}.")
    return value


def _float(data: Mapping[str, Any], name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ParamError(name, f"{name} must be a number, not {raw!r}.") from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise ParamError(name, f"{name} must be between {minimum:g} and {maximum:g}.")
    return value


def _bool(data: Mapping[str, Any], name: str) -> bool:
    raw = data.get(name)
    if raw is None or raw == "" or raw is False:
        return False
    if raw is True:
        return True
    value = str(raw).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ParamError(name, f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}.")


def _text(data: Mapping[str, Any], name: str) -> str | None:
    raw = data.get(name)
    if raw is None:
        return None
    value = str(raw).strip()
    return value or None


def source_checked(data: Mapping[str, Any], name: str = "source", default: str | None = "all") -> str:
    """A source name that exists: ``all``, ``human``, ``judge:NAME`` or ``import:NAME``."""
    from judge.models import Judge

    value = _text(data, name) or default
    if value is None:
        raise ParamError(name, f"{name} is required: human, judge:NAME, import:NAME or all.")
    try:
        kind, source_name = parse_source(value)
    except UnknownSource as exc:
        raise ParamError(name, str(exc)) from None
    if kind == "judge" and not Judge.objects.filter(name=source_name).exists():
        raise ParamError(name, f"No judge named {source_name!r}.")
    if kind == "import" and not VerdictSource.objects.filter(name=source_name).exists():
        raise ParamError(name, f"No imported verdict source named {source_name!r}.")
    if kind == "panel":
        from judge.models import JudgePanel

        if not JudgePanel.objects.filter(name=source_name).exists():
            raise ParamError(name, f"No judge panel named {source_name!r}.")
    return value


def prompt_set_checked(data: Mapping[str, Any]) -> str | None:
    slug = _text(data, "prompt_set")
    if slug and not PromptSet.objects.filter(slug=slug).exists():
        raise ParamError("prompt_set", f"No prompt set {slug!r}.")
    return slug


def canonical_key(kind: str, params: Mapping[str, Any]) -> str:
    """``kind?a=1&b=2`` with the parameters sorted and empty ones left out."""
    items = []
    for name, value in sorted(params.items()):
        if value is None or value == "":
            continue
        if isinstance(value, bool) or (isinstance(value, float) and value.is_integer()):
            value = int(value)
        items.append((name, str(value)))
    return f"{kind}?{urlencode(items)}"


def key_split(key: str) -> tuple[str, dict[str, str]]:
    kind, _, query = key.partition("?")
    return kind, dict(parse_qsl(query, keep_blank_values=False))


def jsonable(value: Any) -> Any:
    """NaN and infinities become ``None``: PostgreSQL's jsonb and strict JSON refuse them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    return value


# --- Leaderboard parameters -----------------------------------------------------------------

@dataclass(frozen=True)
class LeaderboardParams:
    source: str = "all"
    prompt_set: str | None = None
    category: str | None = None
    turn: int | None = None
    method: str = "bt"
    bootstrap: int = 1000
    seed: int = 0
    style_control: bool = False
    k: float = 4.0
    init: float = 1000.0
    permutations: int = 0

    kind: ClassVar[str] = "leaderboard"

    @classmethod
    def from_query(cls, data: Mapping[str, Any]) -> LeaderboardParams:
        """Validate request or command-line input; raises ``ParamError`` naming the bad field."""
        unknown = set(data) - {f.name for f in fields(cls)} - {"format"}
        if unknown:
            name = sorted(unknown)[0]
            raise ParamError(name, f"Unknown parameter {name!r}.")
        method = _text(data, "method") or "bt"
        if method not in METHODS:
            raise ParamError("method", f"method must be elo or bt, not {method!r}.")
        style_control = _bool(data, "style_control")
        if style_control and method != "bt":
            raise ParamError("style_control", "Style control needs method=bt (it is a Bradley-Terry regression).")
        return cls(
            source=source_checked(data),
            prompt_set=prompt_set_checked(data),
            category=_text(data, "category"),
            turn=_int(data, "turn", None, minimum=1, maximum=100),
            method=method,
            bootstrap=_int(data, "bootstrap", settings.ARENA_BOOTSTRAP_ROUNDS, minimum=0,
                           maximum=settings.ARENA_MAX_BOOTSTRAP_ROUNDS) or 0,
            seed=_int(data, "seed", 0, minimum=0, maximum=2**32 - 1) or 0,
            style_control=style_control,
            k=_float(data, "k", 4.0, minimum=0.0, maximum=1000.0),
            init=_float(data, "init", 1000.0, minimum=-1e6, maximum=1e6),
            permutations=_int(data, "permutations", 0, minimum=0, maximum=settings.ARENA_MAX_BOOTSTRAP_ROUNDS) or 0,
        )

    @property
    def key(self) -> str:
        return canonical_key(self.kind, asdict(self))

    def query(self, **overrides: Any) -> str:
        """The parameters as a URL query string (export links, the API)."""
        return canonical_key(self.kind, {**asdict(self), **overrides}).partition("?")[2]


def leaderboard_compute(*, params: LeaderboardParams) -> dict[str, Any]:
    """Read the battles and compute the leaderboard with the pure rating package.

    Returns the JSON-ready result stored in a snapshot: ``rows`` (``model, rating, ci_low,
    ci_high, rank, battles, wins, losses, ties``), ``models``, the ``win_rate`` and
    ``battle_count`` matrices and ``style_coefficients``.
    """
    from arena.ratings import BattleArrays, BattleCounts, compute_leaderboard
    from arena.selectors.battle_columns import battle_arrays, battle_counts

    flt = BattleFilter(params.source, params.prompt_set, params.category, params.turn)
    battles: BattleArrays | BattleCounts
    if params.method == "bt" and not params.style_control:
        battles = battle_counts(flt)  # all plain Bradley-Terry needs, counted by the database
        total = battles.total
    else:
        read = battle_arrays(flt, style=params.style_control)
        battles, total = read.arrays, read.total
    result: dict[str, Any] = {"kind": params.kind, "params": asdict(params), "battle_total": total}
    if not total:
        result.update(rows=[], models=[], win_rate=[], battle_count=[], style_coefficients=None, notes=[])
        return result
    try:
        board = compute_leaderboard(
            battles, method=params.method, bootstrap_rounds=params.bootstrap, seed=params.seed,
            style_control=params.style_control, k=params.k, init=params.init, permutations=params.permutations,
        )
    except ValueError as exc:  # numpy's LinAlgError too: say why on the page instead of failing
        result.update(rows=[], models=[], win_rate=[], battle_count=[], style_coefficients=None, notes=[],
                      error=f"The ratings could not be computed for these filters: {exc}")
        return result
    data = board.to_dict()
    result.update(
        rows=[{name: row[name] for name in ROW_FIELDS} for row in data["rows"]],
        models=list(data.get("models") or [r["model"] for r in data["rows"]]),
        win_rate=data.get("win_rate") or [],
        battle_count=data.get("battle_count") or [],
        style_coefficients=data.get("style_coefficients"),
        notes=data.get("notes") or [],
    )
    return jsonable(result)


ROW_FIELDS = ("model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "losses", "ties")


# --- Reading snapshots -----------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotView:
    """A stored result as a page or the API shows it; ``result`` is None while computing."""

    key: str
    result: dict[str, Any] | None
    battle_count: int = 0
    computed_at: Any = None
    seconds: float = 0.0

    @property
    def computing(self) -> bool:
        return self.result is None


def snapshot_get(*, key: str) -> SnapshotView | None:
    row = (RatingSnapshot.objects.filter(key=key)
           .values("key", "result", "battle_count", "computed_at", "seconds").first())
    if row is None:
        return None
    return SnapshotView(**row)


def leaderboard_get(*, params: LeaderboardParams) -> SnapshotView | None:
    """The cached leaderboard for these filters, or None when it was never computed."""
    return snapshot_get(key=params.key)


# --- What the filter forms offer -------------------------------------------------------------

def sources_available() -> list[str]:
    """Sources with at least one verdict, cached briefly: the filter form is on every page view.

    Uses ``EXISTS`` sub-queries so a million imported verdicts cost an index probe per source,
    not a join with DISTINCT (245 ms at a million verdicts; this takes a few ms).
    """
    cached = cache.get(SOURCES_CACHE_KEY)
    if cached is not None:
        return cached
    from judge.models import Judge, Judgment

    names: list[str] = []
    if Vote.objects.exists():
        names.append("human")
    judges = Judge.objects.filter(
        Exists(Judgment.objects.filter(run__judge=OuterRef("pk"), status=Judgment.Status.DONE))
    ).values_list("name", flat=True)
    names += [f"judge:{n}" for n in judges]
    imported = VerdictSource.objects.filter(
        Exists(ImportedVerdict.objects.filter(source=OuterRef("pk")))
    ).order_by("name").values_list("name", flat=True)
    names += [f"import:{n}" for n in imported]
    from arena.selectors.panels import panels_with_verdicts

    names += [f"panel:{n}" for n in panels_with_verdicts()]
    cache.set(SOURCES_CACHE_KEY, names, settings.ARENA_SOURCES_CACHE_SECONDS)
    return names


def filter_choices() -> dict[str, list[str]]:
    return {
        "sources": ["all", *sources_available()],
        "prompt_sets": list(PromptSet.objects.order_by("slug").values_list("slug", flat=True)),
        "categories": list(Prompt.objects.exclude(category="").order_by("category")
                           .values_list("category", flat=True).distinct()),
    }


def verdicts_count(*, source: str, prompt_set: str | None = None) -> int:
    """How many verdicts a computation over ``source`` would read, at most (category and turn
    filters ignored): decides whether a missing snapshot is computed inside the request."""
    from judge.models import Judgment

    kind, name = parse_source(source)
    if kind == "panel":
        from arena.selectors.panels import panel_judges

        return sum(verdicts_count(source=f"judge:{j}", prompt_set=prompt_set) for j in panel_judges(name or ""))
    total = 0
    if kind in ("all", "human"):
        votes = Vote.objects.all()
        if prompt_set:
            votes = votes.filter(comparison__prompt__prompt_set__slug=prompt_set)
        total += votes.count()
    if kind in ("all", "judge"):
        judgments = Judgment.objects.filter(status=Judgment.Status.DONE, comparison__isnull=False)
        if name:
            judgments = judgments.filter(run__judge__name=name)
        if prompt_set:
            judgments = judgments.filter(comparison__prompt__prompt_set__slug=prompt_set)
        total += judgments.count()
    if kind in ("all", "import"):
        verdicts = ImportedVerdict.objects.all()
        if name:
            verdicts = verdicts.filter(source__name=name)
        if prompt_set:
            verdicts = verdicts.filter(prompt__prompt_set__slug=prompt_set)
        total += verdicts.count()
    return total


def matrices_in_rank_order(result: dict[str, Any]) -> tuple[list[str], list[list[Any]], list[list[Any]]]:
    """The win-rate and battle-count matrices reordered to follow the leaderboard's ranks."""
    models = result.get("models") or []
    ordered = [r["model"] for r in result.get("rows") or [] if r["model"] in models]
    ordered += [m for m in models if m not in ordered]
    where = {m: i for i, m in enumerate(models)}
    idx = [where[m] for m in ordered]
    win_rate, counts = result.get("win_rate") or [], result.get("battle_count") or []

    def pick(matrix: list[list[Any]]) -> list[list[Any]]:
        if len(matrix) != len(models):
            return []
        return [[matrix[i][j] for j in idx] for i in idx]

    return ordered, pick(win_rate), pick(counts)
