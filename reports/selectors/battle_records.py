"""Battles as ``Battle`` records, for the code that needs rows: made from the columns every
computation reads (``battle_columns``; imported on first use so that start-up does not load
NumPy)."""

from __future__ import annotations

from collections.abc import Iterator

from arena.ratings.types import Battle
from reports.selectors.battles import BattleFilter, parse_source


def battles_iter(flt: BattleFilter) -> Iterator[Battle]:
    """Battles as ``Battle`` records, oldest first within each source."""
    from reports.selectors.battle_columns import battle_records

    parse_source(flt.source)  # an unknown source is refused before anything is read
    return battle_records(flt)


def battles_list(
    *,
    source: str = "all",
    prompt_set: str | None = None,
    category: str | None = None,
    turn: int | None = None,
    per_order: bool = False,
) -> list[Battle]:
    """Every battle from ``source`` matching the filters, oldest first within each source."""
    return list(battles_iter(BattleFilter(source, prompt_set, category, turn, per_order)))
