"""Category normalisation (issue 18, point 6): pure, no Django."""

from __future__ import annotations

from arena.categories import BUNDLED_CATEGORIES, category_key, is_junk, normalise_categories


def test_case_plural_and_punctuation_fold_into_one_category() -> None:
    assert (
        category_key("Google Sheets")
        == category_key("google sheet")
        == category_key("Google-Sheet")
        == "google sheet"
    )
    assert category_key("Yelp") == category_key("yelp") == category_key(" YELP. ")
    assert category_key("Stories") == category_key("story")
    assert category_key("class") == "class" and category_key("status") == "status"  # not every s is a plural


def test_junk_is_dropped() -> None:
    assert is_junk("https://cohere.ai/") and is_junk("www.example.com") and is_junk("  --- ") and is_junk("")
    assert not is_junk("common-sense")


def test_groups_take_the_most_used_spelling_and_bundled_categories_come_first() -> None:
    raw = {
        "Google Sheet": 1,
        "Google Sheets": 3,
        "Yelp": 2,
        "yelp": 1,
        "https://cohere.ai/": 4,
        "Math": 5,
        "Writing": 2,
        "apple": 1,
    }
    groups = normalise_categories(raw, bundled=BUNDLED_CATEGORIES["mt_bench"])
    assert list(groups) == ["writing", "math", "apple", "Google Sheets", "Yelp"]
    assert groups["Google Sheets"] == ["Google Sheet", "Google Sheets"] and groups["Yelp"] == ["Yelp", "yelp"]
    assert groups["math"] == ["Math"]


def test_an_admin_mapping_wins_and_can_drop_a_value() -> None:
    raw = {"sheets": 2, "Excel": 1, "misc": 3}
    groups = normalise_categories(
        raw, mapping={"Excel": "Spreadsheets", "sheets": "Spreadsheets", "misc": ""}
    )
    assert groups == {"Spreadsheets": ["Excel", "sheets"]}


def test_the_bundled_sets_have_their_published_categories() -> None:
    assert len(BUNDLED_CATEGORIES["mt_bench"]) == 8 and len(BUNDLED_CATEGORIES["vicuna80"]) == 9
