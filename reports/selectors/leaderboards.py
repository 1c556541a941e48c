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
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef

from arena.models import (
    ImportedVerdict,
    Prompt,
    PromptSet,
    RatingSnapshot,
    VerdictSource,
    Vote,
    max_length_of,
)
from arena.params import CONFLICT, NOT_CHOICE, NOT_FOUND, REQUIRED, QueryReader, shown
from reports.selectors.battles import BattleFilter, UnknownSource, categories_of, live_kinds, parse_source

if TYPE_CHECKING:  # the rating package (numpy, scipy) is imported only where a rating is computed
    from arena.ratings.leaderboard import Method

METHODS: tuple[Method, ...] = ("elo", "bt")
RATER_QUALITIES = ("clean", "all")
SOURCES_CACHE_KEY = "arena:sources"
DEFAULT_SOURCE_CACHE_KEY = "arena:default-source"


# --- Parsing helpers shared by every report's parameters ------------------------------------

SOURCE_MAX_LENGTH = 210  # "import:" + a 200-character name, with room to spare
CATEGORY_MAX_LENGTH = max_length_of(Prompt, "category")
PROMPT_SET_MAX_LENGTH = max_length_of(PromptSet, "slug")
SOURCE_FORMS = "all, human, live, judge:NAME, panel:NAME or import:NAME"


def _sources_allowed() -> str:
    known = sources_available()
    listed = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
    return SOURCE_FORMS + (f" (with verdicts: {listed})" if known else "")


def read_source(reader: QueryReader, name: str = "source", default: str | None = "all") -> str:
    """A source that exists: ``all``, ``human``, ``judge:NAME``, ``panel:NAME`` or ``import:NAME``."""
    from judge.models import Judge, JudgePanel

    value = reader.text(name, max_length=SOURCE_MAX_LENGTH, allowed=SOURCE_FORMS)
    if reader.failed(name):
        return default or "all"
    value = value or default
    if value is None:
        reader.fail(name, REQUIRED, "Missing.", _sources_allowed())
        return "all"
    try:
        kind, source_name = parse_source(value)
    except UnknownSource:  # the form is wrong: say the forms (no database read on this path)
        reader.fail(name, NOT_CHOICE, f"{shown(value)} is not a source.", SOURCE_FORMS)
        return default or "all"
    if kind == "judge" and not Judge.objects.filter(name=source_name).exists():
        reader.fail(name, NOT_FOUND, f"No judge named {shown(source_name)}.", _sources_allowed())
    elif kind == "import" and not VerdictSource.objects.filter(name=source_name).exists():
        reader.fail(
            name, NOT_FOUND, f"No imported verdict source named {shown(source_name)}.", _sources_allowed()
        )
    elif kind == "panel" and not JudgePanel.objects.filter(name=source_name).exists():
        reader.fail(name, NOT_FOUND, f"No judge panel named {shown(source_name)}.", _sources_allowed())
    return value


def read_prompt_set(reader: QueryReader) -> str | None:
    slug = reader.text("prompt_set", max_length=PROMPT_SET_MAX_LENGTH)
    if slug and not PromptSet.objects.filter(slug=slug).exists():
        slugs = ", ".join(PromptSet.objects.order_by("slug").values_list("slug", flat=True))
        reader.fail(
            "prompt_set",
            NOT_FOUND,
            f"No prompt set {shown(slug)}.",
            f"a prompt set ({slugs or 'none loaded yet'}) or nothing for every set",
        )
    return slug


def read_version(reader: QueryReader, prompt_set: str | None) -> int | None:
    """The version of ``prompt_set`` to read (None: its latest); only with a prompt set."""
    version = reader.optional_integer("version", minimum=1, maximum=1_000_000)
    if version is None or reader.failed("prompt_set"):
        return version
    if not prompt_set:
        reader.fail(
            "version",
            CONFLICT,
            "A version needs a prompt set.",
            "a version number together with prompt_set, or nothing for the latest",
        )
        return None
    latest = PromptSet.objects.filter(slug=prompt_set).values_list("version", flat=True).first() or 1
    if version > latest:
        reader.fail(
            "version",
            NOT_FOUND,
            f"{shown(prompt_set)} has no version {version}.",
            f"1 to {latest}, or nothing for the latest",
        )
    return None if version == latest else version


def read_category(reader: QueryReader, prompt_set: str | None = None) -> str | None:
    """A category of ``prompt_set`` (of every set without one) as the filter lists it: a
    normalised name (``categories_of``) or any raw spelling of one, stored as the name."""
    allowed = (
        f"a category of the prompts (at most {CATEGORY_MAX_LENGTH} characters) or nothing for every category"
    )
    category = reader.text("category", max_length=CATEGORY_MAX_LENGTH, allowed=allowed)
    if not category or reader.failed("prompt_set"):
        return category
    groups = categories_of(prompt_set)
    if category in groups:
        return category
    for name, raws in groups.items():
        if category in raws:
            return name
    listed = ", ".join(list(groups)[:12]) + (", …" if len(groups) > 12 else "")
    reader.fail(
        "category",
        NOT_FOUND,
        f"No prompt{' of ' + shown(prompt_set) if prompt_set else ''} has the category {shown(category)}.",
        f"{listed or 'none'}, or nothing for every category",
    )
    return category


def read_rater_quality(reader: QueryReader) -> str:
    """``clean`` (the default: human votes without gold comparisons, raters who failed the gold
    checks or anomalous raters) or ``all``; the leaderboard, bias and agreement read it alike."""
    return reader.choice("rater_quality", "clean", RATER_QUALITIES)


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


class ReportParams:
    """What the parameters of every snapshot (leaderboard, bias, agreement and the evaluation
    reports) share: one way to read them (``read`` from a ``QueryReader``), their canonical key
    and query string, which verdicts they read, and whether they are in the canonical set.

    The canonical set is what anyone may have computed (``reports.services.snapshots``): the
    parameters named in ``chosen`` may take any valid value (each source and prompt set), every
    other one is at its default (``defaults``).
    """

    kind: ClassVar[str]
    # Every kind is a dataclass: this tells the type checker, so fields(), asdict() and replace() take it.
    __dataclass_fields__: ClassVar[dict[str, Any]]
    # The parameters a visitor picks freely in the canonical set; the rest keep their defaults.
    chosen: ClassVar[tuple[str, ...]] = ("source", "prompt_set")
    # The parameters that name a source of verdicts (stale marking: which verdicts it reads).
    source_fields: ClassVar[tuple[str, ...]] = ("source",)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def read(cls, reader: QueryReader) -> Self:
        """Each kind's own, which may take keywords for its defaults (``default_source=``...)."""
        raise NotImplementedError

    @classmethod
    def from_query(cls, data: Mapping[str, Any], **defaults: Any) -> Self:
        """Validate request or command-line input; raises ``ParamError`` naming every bad field."""
        reader = QueryReader(data, allowed=cls.names())
        result = cls.read(reader, **defaults)
        reader.finish()
        return result

    @property
    def key(self) -> str:
        return canonical_key(self.kind, asdict(self))

    def query(self, **overrides: Any) -> str:
        """The parameters as a URL query string (export links, the API)."""
        return canonical_key(self.kind, {**asdict(self), **overrides}).partition("?")[2]

    @property
    def form_state(self) -> str:
        """Every parameter, empty ones too, as a query string: the filter form re-syncs its
        controls to it after Back (``leaderboard.js``)."""
        values = asdict(self)
        return urlencode(
            {
                name: "" if value is None or value is False else (1 if value is True else value)
                for name, value in values.items()
            }
        )

    # --- The canonical set ---------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        """The value of each parameter outside ``chosen`` in the canonical set."""
        values = {
            f.name: f.default for f in fields(self) if f.name not in self.chosen and f.default is not MISSING
        }
        if "bootstrap" in values:
            values["bootstrap"] = settings.ARENA_BOOTSTRAP_ROUNDS  # the dataclass default is only a fallback
        return values

    def is_canonical(self) -> bool:
        return self == replace(self, **self.defaults())

    def canonical_query(self) -> str:
        """The query string of the canonical view closest to these parameters."""
        return urlencode({name: getattr(self, name) for name in self.chosen if getattr(self, name)})

    # --- Which verdicts it reads -----------------------------------------------------------------

    @classmethod
    def sources_in(cls, data: Mapping[str, Any]) -> list[str]:
        """The sources a snapshot with the stored parameters ``data`` reads (``all``: every one)."""
        return [data[name] for name in cls.source_fields if data.get(name)]

    def size(self) -> int:
        """How many verdicts the computation reads, at most: small ones are computed at once."""
        sources = self.sources_in(asdict(self))
        return sum(verdicts_count(source=s, prompt_set=getattr(self, "prompt_set", None)) for s in sources)


# --- Leaderboard parameters -----------------------------------------------------------------


@dataclass(frozen=True)
class LeaderboardParams(ReportParams):
    source: str = "all"
    prompt_set: str | None = None
    version: int | None = None  # of the prompt set; None: its latest
    category: str | None = None
    turn: int | None = None
    method: Method = "bt"
    bootstrap: int = 1000
    seed: int = 0
    style_control: bool = False
    k: float = 4.0
    init: float = 1000.0
    permutations: int = 0
    # Human votes: "clean" leaves out gold comparisons, raters who failed the gold checks and anomalous raters.
    rater_quality: str = "clean"

    kind: ClassVar[str] = "leaderboard"
    # The canonical set: each source, prompt set (and version) and method, clean or all raters, everything else
    # at its default.
    chosen: ClassVar[tuple[str, ...]] = ("source", "prompt_set", "version", "method")

    def defaults(self) -> dict[str, Any]:
        values = super().defaults()
        values.pop("rater_quality", None)  # both values are canonical; the default stays out of links
        return values

    @classmethod
    def read(cls, reader: QueryReader, **defaults: Any) -> Self:
        """The parameters from ``reader`` (problems are recorded in it, defaults used meanwhile)."""
        method = reader.choice("method", "bt", METHODS)
        style_control = reader.boolean("style_control")
        if style_control and method != "bt" and not reader.failed("method"):
            reader.fail(
                "style_control",
                CONFLICT,
                "Style control needs method=bt.",
                "1 with method=bt (it is a Bradley-Terry regression), else 0",
            )
        most_rounds = settings.ARENA_MAX_BOOTSTRAP_ROUNDS
        # Commands may average Elo over more orders than a web request (QLoRA used 10,000).
        most_permutations = defaults.get("max_permutations") or most_rounds
        prompt_set = read_prompt_set(reader)
        return cls(
            # The default is looked up only when no source is given (a command with a bad one reads nothing).
            source=read_source(
                reader,
                default=defaults.get("default_source")
                or (None if reader.given("source") else leaderboard_default_source()),
            ),
            prompt_set=prompt_set,
            version=read_version(reader, prompt_set),
            category=read_category(reader, prompt_set),
            turn=reader.optional_integer("turn", minimum=1, maximum=100),
            method=method,
            bootstrap=reader.integer(
                "bootstrap", settings.ARENA_BOOTSTRAP_ROUNDS, minimum=0, maximum=most_rounds
            ),
            seed=reader.integer("seed", cls.seed, minimum=0, maximum=2**32 - 1),
            style_control=style_control,
            k=reader.number("k", cls.k, minimum=0.0, maximum=1000.0),
            init=reader.number("init", cls.init, minimum=-1e6, maximum=1e6),
            permutations=reader.integer(
                "permutations", cls.permutations, minimum=0, maximum=most_permutations
            ),
            rater_quality=read_rater_quality(reader),
        )


def leaderboard_default_source() -> str:
    """The source a leaderboard shows when none is asked for: human votes where there are any,
    else the judge with the most verdicts, else the imported source with the most, else ``all``.

    ``all`` mixes people, every judge and every import in one fit, which no reader expects
    from a default. Cached with the list of sources (dropped when verdicts arrive).
    """
    cached = cache.get(DEFAULT_SOURCE_CACHE_KEY)
    if cached is not None:
        return cached
    from django.db.models import Count, Q

    from judge.models import Judge, Judgment

    source = "all"
    if Vote.objects.exists():
        source = "human"
    else:
        judge = (
            Judge.objects.annotate(
                n=Count(
                    "runs__judgments",
                    filter=Q(
                        runs__judgments__status=Judgment.Status.DONE,
                        runs__judgments__comparison__isnull=False,
                    ),
                )
            )
            .filter(n__gt=0)
            .order_by("-n", "name")
            .values_list("name", flat=True)
            .first()
        )
        if judge is not None:
            source = f"judge:{judge}"
        else:
            imported = (
                VerdictSource.objects.annotate(n=Count("verdicts"))
                .filter(n__gt=0)
                .order_by("-n", "name")
                .values_list("name", flat=True)
                .first()
            )
            if imported is not None:
                source = f"import:{imported}"
    cache.set(DEFAULT_SOURCE_CACHE_KEY, source, settings.ARENA_SOURCES_CACHE_SECONDS)
    return source


def sources_mixed(source: str) -> list[str]:
    """What ``all`` mixes (every source with verdicts); any other source is itself."""
    return sources_available() if source == "all" else [source]


def leaderboard_compute(*, params: LeaderboardParams) -> dict[str, Any]:
    """Read the battles and compute the leaderboard with the pure rating package.

    Returns the JSON-ready result stored in a snapshot: ``rows`` (``model, rating, ci_low,
    ci_high, rank, battles, wins, losses, ties``), ``models``, the ``win_rate`` and
    ``battle_count`` matrices and ``style_coefficients``.
    """
    from arena.ratings import BattleArrays, BattleCounts, compute_leaderboard
    from reports.selectors.battle_columns import battle_arrays, battle_counts

    flt = BattleFilter(
        params.source,
        params.prompt_set,
        params.category,
        params.turn,
        version=params.version,
        clean_raters=params.rater_quality == "clean",
    )
    battles: BattleArrays | BattleCounts
    if params.method == "bt" and not params.style_control:
        battles = battle_counts(flt)  # all plain Bradley-Terry needs, counted by the database
        total = battles.total
    else:
        read = battle_arrays(flt, style=params.style_control)
        battles, total = read.arrays, read.total
    result: dict[str, Any] = {
        "kind": params.kind,
        "params": asdict(params),
        "battle_total": total,
        "mixes": sources_mixed(params.source),
        "min_battles": settings.ARENA_LEADERBOARD_MIN_BATTLES,
        "prior_sd": settings.ARENA_LEADERBOARD_PRIOR_SD
        if params.method == "bt" and not params.style_control
        else None,
    }
    if not total:
        result.update(rows=[], models=[], win_rate=[], battle_count=[], style_coefficients=None, notes=[])
        return result
    try:
        plain_bt = params.method == "bt" and not params.style_control
        board = compute_leaderboard(
            battles,
            method=params.method,
            bootstrap_rounds=params.bootstrap,
            seed=params.seed,
            style_control=params.style_control,
            k=params.k,
            init=params.init,
            permutations=params.permutations,
            prior_sd=(settings.ARENA_LEADERBOARD_PRIOR_SD or None) if plain_bt else None,
            min_battles=settings.ARENA_LEADERBOARD_MIN_BATTLES,
        )
    except ValueError as exc:  # numpy's LinAlgError too: say why on the page instead of failing
        result.update(
            rows=[],
            models=[],
            win_rate=[],
            battle_count=[],
            style_coefficients=None,
            notes=[],
            error=f"The ratings could not be computed for these filters: {exc}",
        )
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


ROW_FIELDS = (
    "model",
    "rating",
    "ci_low",
    "ci_high",
    "rank",
    "battles",
    "wins",
    "losses",
    "ties",
    "provisional",
)


# --- Reading snapshots -----------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotView:
    """A stored result as a page or the API shows it; ``result`` is None while computing."""

    key: str
    result: dict[str, Any] | None
    battle_count: int = 0
    computed_at: Any = None
    seconds: float = 0.0
    last_read_at: Any = None

    @property
    def computing(self) -> bool:
        return self.result is None


def snapshot_get(*, key: str) -> SnapshotView | None:
    row = (
        RatingSnapshot.objects.filter(key=key)
        .values("key", "result", "battle_count", "computed_at", "seconds", "last_read_at")
        .first()
    )
    if row is None:
        return None
    return SnapshotView(**row)


# --- What the filter forms offer -------------------------------------------------------------


def sources_available() -> list[str]:
    """Sources with at least one verdict, cached briefly: the filter form is on every page view.

    Uses ``EXISTS`` sub-queries so a million imported verdicts cost an index probe per source,
    not a join with DISTINCT (bench_leaderboard_page.py; PERFORMANCE.md).
    """
    cached = cache.get(SOURCES_CACHE_KEY)
    if cached is not None:
        return cached
    from judge.models import Judge, Judgment
    from live.models import LiveBattle

    names: list[str] = []
    live = LiveBattle.objects.filter(status=LiveBattle.Status.VOTED, reveals_identity=False).exists()
    if Vote.objects.exists() or (live and settings.ARENA_LIVE_AS_HUMAN):
        names.append("human")
    if live:
        names.append("live")
    judges = Judge.objects.filter(
        Exists(Judgment.objects.filter(run__judge=OuterRef("pk"), status=Judgment.Status.DONE))
    ).values_list("name", flat=True)
    names += [f"judge:{n}" for n in judges]
    imported = (
        VerdictSource.objects.filter(Exists(ImportedVerdict.objects.filter(source=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
    names += [f"import:{n}" for n in imported]
    from reports.selectors.panels import panels_with_verdicts

    names += [f"panel:{n}" for n in panels_with_verdicts()]
    cache.set(SOURCES_CACHE_KEY, names, settings.ARENA_SOURCES_CACHE_SECONDS)
    return names


def filter_choices(prompt_set: str | None = None) -> dict[str, list[str]]:
    """What the filter forms offer; the categories are those of ``prompt_set`` (every set's
    without one), normalised."""
    import re

    # Unvalidated input (the page reads it before its parameters): only a real slug is looked up.
    if prompt_set and (
        len(prompt_set) > PROMPT_SET_MAX_LENGTH
        or not re.fullmatch(r"[-\w]+", prompt_set, re.ASCII)
        or not PromptSet.objects.filter(slug=prompt_set).exists()
    ):
        prompt_set = None
    return {
        "sources": ["all", *sources_available()],
        "prompt_sets": list(PromptSet.objects.order_by("slug").values_list("slug", flat=True)),
        "categories": list(categories_of(prompt_set)),
    }


def verdicts_count(*, source: str, prompt_set: str | None = None) -> int:
    """How many verdicts a computation over ``source`` would read, at most (category and turn
    filters ignored): decides whether a missing snapshot is computed inside the request."""
    from judge.models import Judgment

    kind, name = parse_source(source)
    if kind == "panel":
        from reports.selectors.panels import panel_judges

        return sum(
            verdicts_count(source=f"judge:{j}", prompt_set=prompt_set) for j in panel_judges(name or "")
        )
    total = 0
    if kind in ("all", "human"):
        votes = Vote.objects.all()
        if prompt_set:
            votes = votes.filter(comparison__prompt__prompt_set__slug=prompt_set)
        total += votes.count()
    if live_kinds(kind) and not prompt_set:
        from live.models import LiveBattle

        total += LiveBattle.objects.filter(status=LiveBattle.Status.VOTED, reveals_identity=False).count()
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
