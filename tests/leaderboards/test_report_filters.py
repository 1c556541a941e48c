"""The report forms offer what their URLs accept (issue 18): the bias and agreement pages have
the leaderboard's rater-quality control (``clean`` by default, or ``all``), and the results the
leaderboard form fetches bring the chosen prompt set's categories into the form."""

from __future__ import annotations

import re

import pytest

from .conftest import build_arena, human_votes


def rater_quality_options(html: str) -> tuple[list[str], str | None]:
    """The rater-quality choices the page's form offers, and the one selected."""
    match = re.search(r'<select name="rater_quality">(.*?)</select>', html, re.S)
    assert match, "the form has no rater_quality control"
    options = re.findall(r'<option value="([^"]*)"( selected)?', match.group(1))
    return [value for value, _ in options], next((value for value, chosen in options if chosen), None)


def gold_comparison(arena) -> int:
    """Make one voted comparison a gold one: its votes check the raters, ``clean`` leaves them out."""
    vote = arena.raters[0].votes.order_by("id").first()
    comparison = vote.comparison
    comparison.is_gold, comparison.gold_winner = True, vote.winner
    comparison.save(update_fields=["is_gold", "gold_winner"])
    return comparison.votes.count()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/leaderboard/", {"source": "human"}),
        ("/bias/", {"source": "human"}),
        ("/agreement/", {"a": "human", "b": "human"}),
    ],
)
def test_the_form_offers_clean_and_all_raters_with_clean_by_default(staff_client, arena, path, query):
    human_votes(arena)
    page = staff_client.get(path, query)
    assert page.status_code == 200
    assert rater_quality_options(page.content.decode()) == (["clean", "all"], "clean")
    chosen = staff_client.get(path, {**query, "rater_quality": "all"})
    assert chosen.status_code == 200
    assert rater_quality_options(chosen.content.decode()) == (["clean", "all"], "all")


def test_the_bias_page_counts_the_votes_the_raters_control_chooses(client, arena):
    votes = len(human_votes(arena))
    gold = gold_comparison(arena)
    clean = client.get("/bias/", {"source": "human"}).content.decode()
    every = client.get("/bias/", {"source": "human", "rater_quality": "all"}).content.decode()
    assert f"<strong>{votes - gold}</strong> verdicts" in clean and "without gold comparisons" in clean
    assert f"<strong>{votes}</strong> verdicts" in every and "every human vote" in every
    assert "rater_quality=all" in re.search(r'data-form-state="([^"]*)"', every).group(1)


def test_results_the_leaderboard_form_fetches_bring_the_sets_categories(client, db):
    build_arena(set_slug="sheets", categories=("budget", "formulas"))
    build_arena(set_slug="reviews", categories=("hotels", "restaurants"))
    query = {"source": "human", "prompt_set": "reviews"}
    results = client.get(
        "/leaderboard/", query, headers={"HX-Request": "true", "HX-Trigger": "leaderboard-filters"}
    )
    html = results.content.decode()
    assert html.lstrip().startswith('<section id="results"')  # the partial
    swapped = re.search(r'<label id="category-filter" hx-swap-oob="true">.*?</label>', html, re.S)
    assert swapped and re.findall(r'<option value="(\w+)"', swapped.group(0)) == ["hotels", "restaurants"]
    # The results refreshing themselves (a new snapshot) leave the form alone.
    refreshed = client.get("/leaderboard/", query, headers={"HX-Request": "true", "HX-Trigger": "results"})
    assert "hx-swap-oob" not in refreshed.content.decode()
    assert "hx-swap-oob" not in client.get("/leaderboard/", query).content.decode()  # the whole page
