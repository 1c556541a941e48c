"""The category filter (issue 18, point 6): per prompt set, normalised, bundled sets' own
categories first, an admin mapping for other sets; filtering by a name matches every spelling."""

from __future__ import annotations

import re

from arena.models import CategoryMapping, PromptSet
from reports.selectors.battles import categories_of

from .conftest import build_arena, human_votes


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="category">(.*?)</select>', html, re.S).group(1)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def test_the_filter_lists_the_chosen_sets_categories_folded_and_filters_every_spelling(client, db):
    sheets = build_arena(set_slug="sheets", categories=("Google Sheet", "Google Sheets"))
    human_votes(sheets)
    reviews = build_arena(
        models=("alpha", "beta"), set_slug="reviews", categories=("Yelp", "yelp", "https://cohere.ai/")
    )
    human_votes(reviews)

    page = client.get("/leaderboard/", {"source": "human", "prompt_set": "sheets"}).content.decode()
    assert _options(page) == ["Google Sheet"]  # as often as "Google Sheets": the first spelling
    assert _options(
        client.get("/leaderboard/", {"source": "human", "prompt_set": "reviews"}).content.decode()
    ) == ["Yelp"]
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("stella", password="x", is_staff=True))
    every = client.get("/api/leaderboard/", {"source": "human", "prompt_set": "sheets"}).json()
    one = client.get(
        "/api/leaderboard/", {"source": "human", "prompt_set": "sheets", "category": "Google Sheet"}
    )
    assert one.status_code == 200, one.content
    assert one.json()["battle_total"] == every["battle_total"] == 54  # both spellings
    assert one.json()["params"]["category"] == "Google Sheet"
    raw = client.get(
        "/api/leaderboard/", {"source": "human", "prompt_set": "sheets", "category": "Google Sheets"}
    ).json()
    assert raw["params"]["category"] == "Google Sheet"  # a raw spelling means its group
    other = client.get("/api/leaderboard/", {"source": "human", "prompt_set": "sheets", "category": "Yelp"})
    assert other.status_code == 400 and other.json()["field"] == "category"
    assert (
        client.get(
            "/api/leaderboard/", {"prompt_set": "reviews", "category": "https://cohere.ai/"}
        ).status_code
        == 400
    )


def test_bundled_sets_list_their_own_categories_first(db):
    arena = build_arena(set_slug="mt_bench", categories=("Math", "aardvark", "writing"))
    assert list(categories_of(arena.prompt_set.slug)) == ["writing", "math", "aardvark"]


def test_an_admin_mapping_names_the_categories_of_other_sets(db):
    reviews = build_arena(set_slug="reviews", categories=("Yelp", "tripadvisor", "junk"))
    pset = PromptSet.objects.get(slug="reviews")
    CategoryMapping.objects.create(prompt_set=pset, raw="Yelp", canonical="Reviews")
    CategoryMapping.objects.create(prompt_set=pset, raw="tripadvisor", canonical="reviews")
    CategoryMapping.objects.create(prompt_set=pset, raw="junk", canonical="")
    assert categories_of(reviews.prompt_set.slug) == {"Reviews": ["Yelp", "tripadvisor"]}
