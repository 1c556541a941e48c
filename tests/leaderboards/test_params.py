"""One parameter layer for pages, API and commands: every bad value is a 400 (or a non-zero
exit) that names each bad parameter and what it allows, with the same sentences everywhere; no
value gives a 500."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.core.management import CommandError, call_command

from arena.models import RatingSnapshot

pytestmark = pytest.mark.django_db


def problems_on_page(response) -> dict[str, tuple[str, str]]:
    """``data-param`` rows of the 400 page: parameter -> (problem, allowed)."""
    text = response.content.decode()
    rows = re.findall(
        r'<tr data-param="([^"]*)"><td><code>[^<]*</code></td><td>([^<]*)</td><td>([^<]*)</td></tr>', text
    )
    return {
        html.unescape(name): (html.unescape(problem), html.unescape(allowed))
        for name, problem, allowed in rows
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"bootstrap": "abc"},
        {"bootstrap": "-5"},
        {"bootstrap": "999999"},
        {"seed": "abc"},
        {"seed": "-5"},
        {"k": "-1"},
        {"k": "abc"},
        {"k": "999999"},
    ],
)
def test_the_leaderboard_page_validates_what_the_api_validates(client, voted_arena, bad):
    page = client.get("/leaderboard/", {"source": "human", **bad})
    api = client.get("/api/leaderboard/", {"source": "human", **bad})

    (name,) = bad
    assert page.status_code == api.status_code == 400
    assert list(problems_on_page(page)) == [name]
    assert api.json()["errors"][name]["code"] in ("not_integer", "not_number", "out_of_range")
    problem, allowed = problems_on_page(page)[name]
    assert (problem, allowed) == (
        api.json()["errors"][name]["message"],
        api.json()["errors"][name]["allowed"],
    )
    assert not RatingSnapshot.objects.exists()


def test_the_page_names_every_bad_parameter_and_what_is_allowed(client, voted_arena, settings):
    settings.ARENA_MAX_BOOTSTRAP_ROUNDS = 5000
    response = client.get(
        "/leaderboard/", {"bootstrap": "abc", "seed": "-5", "k": "-1", "method": "glicko", "colour": "red"}
    )

    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "bootstrap-round" not in text
    assert "These 5 parameters cannot be used" in text
    problems = problems_on_page(response)
    assert problems["bootstrap"] == ("'abc' is not a whole number.", "a whole number from 0 to 5000")
    assert problems["seed"] == ("'-5' is out of range.", "a whole number from 0 to 4294967295")
    assert problems["k"] == ("'-1' is out of range.", "a number from 0 to 1000")
    assert problems["method"] == ("'glicko' is not one of the choices.", "one of elo, bt")
    assert problems["colour"][0] == "Unknown parameter 'colour'."
    assert 'class="errorlist param-errors"' in text  # the styled block, inside the normal page
    assert '<form id="leaderboard-filters"' in text


def test_the_api_answers_an_error_code_per_parameter(client, voted_arena):
    response = client.get("/api/leaderboard/?bootstrap=abc&turn=0&turn=1&style_control=maybe&format=xml")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {name: e["code"] for name, e in errors.items()} == {
        "turn": "repeated",
        "bootstrap": "not_integer",
        "style_control": "not_boolean",
        "format": "not_choice",
    }
    assert all(e["message"] and e["allowed"] for e in errors.values())


def test_commands_exit_with_the_same_sentences(client, voted_arena):
    api = client.get("/api/leaderboard/", {"bootstrap": "abc", "k": "-1", "prompt_set": "nope"}).json()[
        "errors"
    ]

    with pytest.raises(CommandError) as failure:
        call_command(
            "leaderboard", "--bootstrap", "abc", "--k", "-1", "--prompt-set", "nope", stdout=io.StringIO()
        )

    lines = str(failure.value).splitlines()
    assert lines == [
        f"--{name.replace('_', '-')}: {api[name]['message']} Allowed: {api[name]['allowed']}."
        for name in ("prompt_set", "bootstrap", "k")
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("category", "writing\x00"),
        ("source", "hu\x00man"),
        ("prompt_set", "demo\x00set"),
        ("category", "c" * 300),
        ("source", "import:" + "x" * 300),
    ],
)
@pytest.mark.parametrize("url", ["/leaderboard/", "/api/leaderboard/", "/bias/", "/api/bias/"])
def test_nul_bytes_and_long_values_are_a_400_not_a_500(client, voted_arena, url, name, value):
    if name == "category" and "bias" in url:
        pytest.skip("the bias report has no category")
    response = client.get(url, {name: value})

    assert response.status_code == 400
    assert "Traceback" not in response.content.decode()
    if url.startswith("/api/"):
        assert response.json()["errors"][name]["code"] in ("invalid_text", "too_long")


def test_the_page_uses_bootstrap_seed_and_k_from_its_url(staff_client, voted_arena):
    page = staff_client.get(
        "/leaderboard/", {"source": "human", "method": "elo", "bootstrap": "20", "seed": "7", "k": "8"}
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "online Elo (K=8.0)" in text and "20 bootstrap rounds" in text
    key = RatingSnapshot.objects.get().key
    assert "bootstrap=20" in key and "seed=7" in key and "k=8" in key
    # The form keeps them when a filter changes.
    assert '<input type="hidden" name="bootstrap" value="20">' in text
    assert '<input type="hidden" name="seed" value="7">' in text


def test_sources_come_as_csv_when_asked(client, voted_arena):
    response = client.get("/api/sources/", {"format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["source"],
        ["all"],
        ["human"],
        ["import:paper-gpt4"],
    ]
    assert client.get("/api/sources/", {"format": "xml"}).json()["errors"]["format"]["code"] == "not_choice"
