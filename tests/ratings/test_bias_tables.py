"""The bias report's tables: position bias only where the shown order is recorded, consistency
that counts a source's own inconsistency flags, provenance caveats, p-values as printed."""

from __future__ import annotations

from arena.ratings import Battle, BattleArrays
from arena.ratings.bias import (
    FIXED_POSITION_MIN,
    CombinedOrders,
    consistency_table,
    format_p_value,
    length_bias,
    length_table,
    position_table,
    provenance_caveats,
)


def _arrays(battles: list[Battle]) -> BattleArrays:
    return BattleArrays.from_battles(battles, keep_self_battles=True)


def combined_source(n: int = 40, flagged: int = 10) -> list[Battle]:
    """MT-Bench's gpt4_pair: one verdict per judgment made in both orders, model_a named first in
    the file (the import marks the position known, though no single order was shown)."""
    battles = []
    for i in range(n):
        winner = "tie" if i < flagged else ("model_b" if i % 3 else "model_a")
        battles.append(
            Battle(
                "import:pair",
                f"m{i % 4}",
                f"m{4 + i % 3}",
                winner,  # type: ignore[arg-type]
                comparison=f"q{i}",
                first_shown="model_a",
                rater="gpt4_pair",
            )
        )
    return battles


def human(n: int = 60) -> list[Battle]:
    return [
        Battle(
            "human",
            "x",
            "y",
            "model_a" if i % 3 else "model_b",  # type: ignore[arg-type]
            first_shown="model_a" if i % 2 else "model_b",
            rater=f"r{i}",
        )
        for i in range(n)
    ]


def test_a_source_that_combines_both_orders_gives_no_position_number() -> None:
    arrays = _arrays(combined_source() + human())
    table = position_table(arrays, {"import:pair": CombinedOrders(40, 10)})
    rows = {row["source"]: row for row in table["rows"]}
    assert rows["import:pair"]["order_recorded"] is False
    assert rows["import:pair"]["first_shown_wins"] is None
    assert "both presentation orders" in rows["import:pair"]["reason"]
    assert rows["human"]["order_recorded"] is True
    assert rows["human"]["first_shown_wins"]["trials"] == 60
    # The pooled figure uses only the sources whose order is recorded: the human votes.
    assert table["overall"] == rows["human"]["first_shown_wins"]


def test_a_source_without_any_recorded_order_says_so() -> None:
    battles = [Battle("import:alpaca", "x", "y", "model_a") for _ in range(10)]  # type: ignore[arg-type]
    row = position_table(_arrays(battles))["rows"][0]
    assert row["order_recorded"] is False and "did not record" in row["reason"]


def test_each_share_carries_n_interval_and_p() -> None:
    share = position_table(_arrays(human()))["rows"][0]["first_shown_wins"]
    assert set(share) >= {"trials", "successes", "share", "ci_low", "ci_high", "p_value"}
    assert share["ci_low"] < share["share"] < share["ci_high"]


def test_imported_inconsistency_flags_count_in_the_consistency_figure() -> None:
    arrays = _arrays(combined_source(40, 10))
    row = consistency_table(arrays, {"import:pair": CombinedOrders(40, 10)})["rows"][0]
    assert row["pairs"] == 40 and row["inconsistent"] == 10
    assert row["consistent"]["successes"] == 30 and row["consistent"]["share"] == 0.75
    assert row["consistent"]["ci_low"] < 0.75 < row["consistent"]["ci_high"]
    assert row["favour_first"] is None  # which order each inconsistent verdict favoured is not in the file
    assert consistency_table(arrays)["rows"] == []  # without the flags there is nothing to count


def test_a_model_always_shown_second_is_a_caveat() -> None:
    reviews = [
        Battle(
            "import:reviews",
            f"m{i % 5}",
            "vicuna-13b",
            "model_b" if i % 4 else "model_a",  # type: ignore[arg-type]
            comparison=f"q{i}",
            first_shown="model_a",
            rater="gpt-4",
        )
        for i in range(FIXED_POSITION_MIN + 5)
    ]
    caveats = provenance_caveats(_arrays(reviews + human()))
    assert len(caveats) == 1
    assert "vicuna-13b was shown second in all 25" in caveats[0] and caveats[0].startswith("import:reviews")
    combined = provenance_caveats(_arrays(combined_source()), {"import:pair": CombinedOrders(40, 10)})
    assert "combines the judge's two presentation orders (10 of 40 flagged" in combined[0]


def test_length_table_gives_each_bucket_its_interval() -> None:
    from arena.ratings import StyleFeatures

    battles = [
        Battle(
            "human",
            "x",
            "y",
            "model_a" if i % 3 else "model_b",
            first_shown="model_a",  # type: ignore[arg-type]
            style_a=StyleFeatures(100 + i, 0, 0, 0),
            style_b=StyleFeatures(50, 0, 0, 0),
        )
        for i in range(60)
    ]
    table = length_table(length_bias(battles, bootstrap_rounds=0))
    assert table["overall"]["trials"] == 60
    for row in table["rows"]:
        share = row["longer_wins"]
        assert share["trials"] == 0 or share["ci_low"] <= share["share"] <= share["ci_high"]
    assert sum(row["longer_wins"]["trials"] for row in table["rows"]) == 60


def test_p_values_are_printed_below_one_thousandth_as_such() -> None:
    assert format_p_value(1e-12) == "< 0.001"
    assert format_p_value(0.0) == "< 0.001"
    assert format_p_value(0.0123) == "0.012"
    assert format_p_value(None) == "-"
