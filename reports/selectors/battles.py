"""Which verdicts a computation reads: sources, filters and comparison keys.

Human votes, LLM judgments and imported verdicts are read by ``battle_columns`` into columns
(``battle_arrays`` and ``battle_counts`` for the rating maths) or, for code that needs rows,
into ``Battle`` records by ``battles_list`` (``battle_records``). Sources are named ``human``, ``judge:<judge name>`` and
``import:<verdict source name>`` and ``live`` (the votes of live battles, ``live.models.LiveBattle``;
also read as ``human`` when ``ARENA_LIVE_AS_HUMAN`` is on); ``all`` is every source together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet

from arena.models import Prompt, in_version_q

HUMAN = "human"
LIVE = "live"
JUDGE_PREFIX = "judge:"
IMPORT_PREFIX = "import:"
PANEL_PREFIX = "panel:"  # a judge panel's majority verdicts (reports.selectors.panels)


@dataclass(frozen=True)
class BattleFilter:
    source: str = "all"
    prompt_set: str | None = None
    category: str | None = None
    turn: int | None = None
    # Judges: one battle per presentation order (bias reports) or one per comparison with the
    # two orders combined (leaderboards; disagreeing orders follow the run's tie/drop option).
    per_order: bool = False
    # The version of ``prompt_set`` (None: its latest; without a prompt set every prompt counts).
    version: int | None = None
    # Human votes: leave out gold comparisons and the raters who failed the gold checks.
    clean_raters: bool = False
    # Judges: each run is a rater of its own (``<judge>#run<id>``) instead of the judge being one,
    # for agreement within a source (a judge with itself across repeated runs).
    judge_runs_as_raters: bool = False


class UnknownSource(ValueError):
    pass


def parse_source(source: str) -> tuple[str, str | None]:
    """Split ``judge:gpt-4`` into (``judge``, ``gpt-4``); validate the form."""
    if source in ("all", HUMAN, LIVE):
        return source, None
    for prefix in (JUDGE_PREFIX, IMPORT_PREFIX, PANEL_PREFIX):
        if source.startswith(prefix) and len(source) > len(prefix):
            return prefix[:-1], source[len(prefix) :]
    raise UnknownSource(
        f"Unknown source {source!r}: use human, live, judge:NAME, import:NAME, panel:NAME or all."
    )


def live_kinds(kind: str) -> str | None:
    """How a source of ``kind`` reads live battles: under which source label, or None (not at all).

    ``live`` and ``all`` read them; ``human`` does too when ``ARENA_LIVE_AS_HUMAN`` folds them in,
    and then they are labelled ``human`` wherever they are read."""
    from django.conf import settings

    folded = settings.ARENA_LIVE_AS_HUMAN
    if kind == LIVE:
        return LIVE
    if kind == "all" or (kind == HUMAN and folded):
        return HUMAN if folded else LIVE
    return None


def comparison_key(
    prompt_set: str | None, prompt: str | None, turn: int, model_1: str, model_2: str
) -> str | None:
    """Key shared by every verdict on the same prompt turn and unordered pair of models."""
    if prompt is None:
        return None
    low, high = sorted((model_1, model_2))
    return f"{prompt_set}/{prompt}/{turn}/{low}|{high}"


def filter_prompts(qs: QuerySet, flt: BattleFilter, prompt_field: str) -> QuerySet:
    if flt.prompt_set:
        qs = qs.filter(
            Q(**{f"{prompt_field}__prompt_set__slug": flt.prompt_set})
            & in_version_q(prompt_field, flt.version)
        )
    if flt.category:  # a normalised name: every raw spelling of it (arena.categories)
        qs = qs.filter(**{f"{prompt_field}__category__in": category_raw_values(flt.category, flt.prompt_set)})
    return qs


def gold_failed_raters() -> QuerySet:
    """Ids of raters with at least ``ARENA_GOLD_MIN_VOTES`` gold votes whose accuracy is below
    ``ARENA_GOLD_MIN_ACCURACY`` (``RaterStats.flagged``), as a sub-query."""
    from django.db.models import Count, F, Q

    from arena.models import Vote

    return (
        Vote.objects.filter(comparison__is_gold=True)
        .exclude(comparison__gold_winner="")
        .values("rater_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(winner=F("comparison__gold_winner"))))
        .filter(n__gte=settings.ARENA_GOLD_MIN_VOTES, ok__lt=F("n") * settings.ARENA_GOLD_MIN_ACCURACY)
        .values("rater_id")
    )


def filter_votes(qs: QuerySet, flt: BattleFilter) -> QuerySet:
    """Human votes as ``flt`` asks: with ``clean_raters`` no vote on a gold comparison (it
    checks the rater, it does not measure the models), none of a rater who failed the gold checks
    and none of a rater the anomaly check flags (``reports.selectors.rater_checks``)."""
    if flt.clean_raters:
        from reports.selectors.rater_checks import anomalous_rater_ids

        qs = qs.exclude(comparison__is_gold=True).exclude(rater_id__in=gold_failed_raters())
        flagged = anomalous_rater_ids()
        if flagged:
            qs = qs.exclude(rater_id__in=flagged)
    return qs


CATEGORIES_CACHE_KEY = "arena:categories:"


def categories_of(prompt_set: str | None) -> dict[str, list[str]]:
    """The categories of ``prompt_set`` (every set: None) as the filter lists them, each with its
    raw spellings: normalised (``arena.categories``), the set's admin mapping applied
    (``CategoryMapping``), the bundled sets' own categories first. Cached briefly."""
    from arena.categories import BUNDLED_CATEGORIES, normalise_categories
    from arena.models import CategoryMapping

    key = CATEGORIES_CACHE_KEY + (prompt_set or "*")
    cached = cache.get(key)
    if cached is not None:
        return cached
    from django.db.models import Count

    prompts = Prompt.objects.exclude(category="")
    mappings = CategoryMapping.objects.all()
    if prompt_set:
        prompts = prompts.filter(prompt_set__slug=prompt_set)
        mappings = mappings.filter(prompt_set__slug=prompt_set)
    raw_counts = dict(prompts.values_list("category").annotate(n=Count("id")).values_list("category", "n"))
    groups = normalise_categories(
        raw_counts,
        bundled=BUNDLED_CATEGORIES.get(prompt_set or "", ()),
        mapping=dict(mappings.values_list("raw", "canonical")),
    )
    cache.set(key, groups, settings.ARENA_SOURCES_CACHE_SECONDS)
    return groups


def category_raw_values(category: str, prompt_set: str | None) -> list[str]:
    """The raw spellings a filter by ``category`` matches (itself when it is no listed name)."""
    return categories_of(prompt_set).get(category) or [category]
