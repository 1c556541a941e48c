"""Which verdicts a computation reads: sources, filters and comparison keys.

Human votes, LLM judgments and imported verdicts are read by ``battle_columns`` into columns
(``battle_arrays`` and ``battle_counts`` for the rating maths) or, for code that needs rows,
into ``Battle`` records by ``battles_list`` here. Sources are named ``human``, ``judge:<judge name>`` and
``import:<verdict source name>`` and ``live`` (the votes of live battles, ``live.models.LiveBattle``;
also read as ``human`` when ``ARENA_LIVE_AS_HUMAN`` is on); ``all`` is every source together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from arena.models import in_version_q
from arena.ratings.types import Battle

HUMAN = "human"
LIVE = "live"
JUDGE_PREFIX = "judge:"
IMPORT_PREFIX = "import:"
PANEL_PREFIX = "panel:"  # a judge panel's majority verdicts (arena.selectors.panels)


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
            return prefix[:-1], source[len(prefix):]
    raise UnknownSource(f"Unknown source {source!r}: use human, live, judge:NAME, import:NAME, panel:NAME or all.")


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


def comparison_key(prompt_set: str | None, prompt: str | None, turn: int, model_1: str, model_2: str) -> str | None:
    """Key shared by every verdict on the same prompt turn and unordered pair of models."""
    if prompt is None:
        return None
    low, high = sorted((model_1, model_2))
    return f"{prompt_set}/{prompt}/{turn}/{low}|{high}"


def filter_prompts(qs: QuerySet, flt: BattleFilter, prompt_field: str) -> QuerySet:
    if flt.prompt_set:
        qs = qs.filter(Q(**{f"{prompt_field}__prompt_set__slug": flt.prompt_set}) & in_version_q(prompt_field, flt.version))
    if flt.category:  # a normalised name: every raw spelling of it (arena.categories)
        from arena.selectors.leaderboards import category_raw_values

        qs = qs.filter(**{f"{prompt_field}__category__in": category_raw_values(flt.category, flt.prompt_set)})
    return qs


def gold_failed_raters() -> QuerySet:
    """Ids of raters with at least ``ARENA_GOLD_MIN_VOTES`` gold votes whose accuracy is below
    ``ARENA_GOLD_MIN_ACCURACY`` (``RaterStats.flagged``), as a sub-query."""
    from django.conf import settings
    from django.db.models import Count, F, Q

    from arena.models import Vote

    return (Vote.objects.filter(comparison__is_gold=True).exclude(comparison__gold_winner="")
            .values("rater_id")
            .annotate(n=Count("id"), ok=Count("id", filter=Q(winner=F("comparison__gold_winner"))))
            .filter(n__gte=settings.ARENA_GOLD_MIN_VOTES, ok__lt=F("n") * settings.ARENA_GOLD_MIN_ACCURACY)
            .values("rater_id"))


def filter_votes(qs: QuerySet, flt: BattleFilter) -> QuerySet:
    """Human votes as ``flt`` asks: with ``clean_raters`` no vote on a gold comparison (it
    checks the rater, it does not measure the models), none of a rater who failed the gold checks
    and none of a rater the anomaly check flags (``arena.selectors.rater_checks``)."""
    if flt.clean_raters:
        from arena.selectors.rater_checks import anomalous_rater_ids

        qs = qs.exclude(comparison__is_gold=True).exclude(rater_id__in=gold_failed_raters())
        flagged = anomalous_rater_ids()
        if flagged:
            qs = qs.exclude(rater_id__in=flagged)
    return qs


def battles_iter(flt: BattleFilter) -> Iterator[Battle]:
    """Battles as ``Battle`` records, made from the columns every computation reads
    (``battle_columns``; imported here so that start-up does not load NumPy)."""
    from arena.selectors.battle_columns import battle_records

    parse_source(flt.source)  # an unknown source is refused before anything is read
    return battle_records(flt)


def battles_list(
    *, source: str = "all", prompt_set: str | None = None, category: str | None = None,
    turn: int | None = None, per_order: bool = False,
) -> list[Battle]:
    """Every battle from ``source`` matching the filters, oldest first within each source."""
    return list(battles_iter(BattleFilter(source, prompt_set, category, turn, per_order)))
