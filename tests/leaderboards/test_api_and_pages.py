"""A visitor reads the leaderboard, bias and agreement pages; a script reads the same numbers
from /api/ as JSON or CSV; bad parameters get a 400 that says what is wrong."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser

import pytest

from arena.models import RatingSnapshot

pytestmark = pytest.mark.django_db


class TableCells(HTMLParser):
    """Collects ``data-field`` cells per ``data-model`` row of the leaderboard table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._model: str | None = None
        self._field: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-model" in attrs:
            self._model = attrs["data-model"]
            self.rows[self._model] = {}
        if tag == "td" and self._model and "data-field" in attrs:
            self._field = attrs["data-field"]

    def handle_endtag(self, tag):
        if tag == "td":
            self._field = None
        if tag == "tr":
            self._model = None

    def handle_data(self, data):
        if self._model and self._field:
            self.rows[self._model][self._field] = self.rows[self._model].get(self._field, "") + data.strip()


def page_rows(html: str) -> dict[str, dict[str, str]]:
    parser = TableCells()
    parser.feed(html)
    return parser.rows


def test_the_page_json_and_csv_show_the_same_numbers(client, voted_arena):
    page = client.get("/leaderboard/", {"source": "human"})
    data = client.get("/api/leaderboard/", {"source": "human"}).json()
    exported = list(
        csv.DictReader(
            io.StringIO(
                client.get("/api/leaderboard/", {"source": "human", "format": "csv"}).content.decode()
            )
        )
    )

    assert page.status_code == 200
    shown = page_rows(page.content.decode())
    assert list(shown) == [r["model"] for r in data["rows"]] == [r["model"] for r in exported]
    for row, exported_row in zip(data["rows"], exported, strict=True):
        on_page = shown[row["model"]]
        for name in ("rating", "ci_low", "ci_high"):
            assert on_page[name] == f"{row[name]:.1f}"
            assert float(exported_row[name]) == row[name]
        for name in ("rank", "battles", "wins", "losses", "ties"):
            assert int(on_page[name]) == row[name] == int(exported_row[name])
    assert page["Content-Security-Policy"]


def test_the_page_shows_plots_with_accessible_titles_and_export_links(client, voted_arena):
    html = client.get("/leaderboard/", {"source": "human"}).content.decode()

    assert html.count("<svg") == 2
    assert 'class="chart ratings-chart"' in html and 'class="chart heatmap"' in html
    assert '<title id="svg-title-' in html and 'role="img"' in html
    assert re.search(r'href="/api/leaderboard/\?[^"]*source=human[^"]*"', html)
    assert "format=csv" in html
    assert 'data-snapshot-key="leaderboard?' in html
    assert "/static/arena/leaderboard.js" in html


def test_htmx_filter_changes_swap_only_the_results(client, voted_arena):
    response = client.get(
        "/leaderboard/", {"source": "import:paper-gpt4", "method": "elo"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<form" not in html and "<html" not in html
    assert "online Elo" in html
    assert "import:paper-gpt4" in html


def test_filters_select_the_battles(staff_client, voted_arena):
    client = staff_client
    everything = client.get("/api/leaderboard/", {"source": "human"}).json()
    coding = client.get("/api/leaderboard/", {"source": "human", "category": "coding"}).json()
    both = client.get("/api/leaderboard/", {"source": "all", "prompt_set": "demo-set"}).json()

    assert everything["battle_total"] == 54
    assert coding["battle_total"] == 27
    assert both["battle_total"] == 54 + 18
    assert len({everything["key"], coding["key"], both["key"]}) == 3


def test_the_first_visit_computes_and_stores_a_snapshot_later_visits_read_it(client, voted_arena):
    assert not RatingSnapshot.objects.exists()
    first = client.get("/api/leaderboard/", {"source": "human", "method": "bt"}).json()
    snapshot = RatingSnapshot.objects.get()
    assert (
        snapshot.key
        == first["key"]
        == "leaderboard?bootstrap=50&init=1000&k=4&method=bt&permutations=0&rater_quality=clean&seed=0&source=human&style_control=0"
    )
    assert snapshot.battle_count == 54

    RatingSnapshot.objects.filter(pk=snapshot.pk).update(result={**snapshot.result, "rows": []})
    assert client.get("/api/leaderboard/", {"source": "human"}).json()["rows"] == []


def test_a_missing_snapshot_over_big_data_is_computed_by_a_worker(
    client, voted_arena, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ARENA_SNAPSHOT_SYNC_MAX_BATTLES = 10
    sent = []
    monkeypatch.setattr("reports.tasks.snapshot_refresh.apply_async", lambda args, **kw: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        api = client.get("/api/leaderboard/", {"source": "human"})
        page = client.get("/leaderboard/", {"source": "human"})

    assert api.status_code == 202 and api.json()["status"] == "computing"
    assert "Computing…" in page.content.decode()
    assert len(sent) == 1  # the second visitor does not enqueue it again


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/leaderboard/", {"method": "glicko"}, "method"),
        ("/api/leaderboard/", {"source": "people"}, "source"),
        ("/api/leaderboard/", {"source": "judge:nobody"}, "source"),
        ("/api/leaderboard/", {"prompt_set": "nope"}, "prompt_set"),
        ("/api/leaderboard/", {"bootstrap": "lots"}, "bootstrap"),
        ("/api/leaderboard/", {"bootstrap": "999999"}, "bootstrap"),
        ("/api/leaderboard/", {"method": "elo", "style_control": "1"}, "style_control"),
        ("/api/leaderboard/", {"style_control": "maybe"}, "style_control"),
        ("/api/leaderboard/", {"k": "nan"}, "k"),
        ("/api/leaderboard/", {"turn": "0"}, "turn"),
        ("/api/leaderboard/", {"format": "xml"}, "format"),
        ("/api/leaderboard/", {"colour": "red"}, "colour"),
        ("/api/bias/", {"source": "import:nothing"}, "source"),
        ("/api/agreement/", {"a": "human"}, "b"),
        ("/api/agreement/", {"a": "human", "b": "import:paper-gpt4", "raters": "expert"}, "raters"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(client, voted_arena, url, query, field):
    response = client.get(url, query)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"]
    assert not RatingSnapshot.objects.exists()


def test_a_bad_filter_on_the_page_says_what_is_wrong(client, voted_arena):
    response = client.get("/leaderboard/", {"method": "glicko"})
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "'glicko' is not one of the choices." in text and "one of elo, bt" in text


def test_sources_lists_every_source_with_verdicts(client, voted_arena):
    assert client.get("/api/sources/").json() == {"sources": ["all", "human", "import:paper-gpt4"]}


def test_bias_page_and_exports(client, voted_arena):
    page = client.get("/bias/", {"source": "human"})
    data = client.get("/api/bias/", {"source": "human"}).json()
    exported = client.get("/api/bias/", {"source": "human", "format": "csv"})

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") >= 3  # position, length, grades
    assert "Grades A\u2013D per model" in html and "Helpful" in html
    for grade in data["grades"]:
        assert f'data-model="{grade["model"]}"' in html
    lines = exported.content.decode().splitlines()
    assert lines[0] == "metric,value"
    assert any(line.startswith("battle_total,54") for line in lines)
    assert exported["Content-Type"].startswith("text/csv")


def test_agreement_page_and_exports(client, voted_arena):
    page = client.get("/agreement/", {"a": "human", "b": "import:paper-gpt4"})
    data = client.get("/api/agreement/", {"a": "human", "b": "import:paper-gpt4"}).json()
    exported = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    "/api/agreement/", {"a": "human", "b": "import:paper-gpt4", "format": "csv"}
                ).content.decode()
            )
        )
    )

    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    assert exported[0]["turn"] == "all"
    assert exported[0]["turn"] == "all" and [r["turn"] for r in exported[1:]] == ["1"]
    shown = re.findall(r'data-field="(agreement_with_ties|agreement_without_ties|kappa)">([^<]*)<', html)
    expected = []
    for row in [data["overall"], *data["per_turn"]]:
        n = {
            "agreement_with_ties": ("agreeing", "pairs"),
            "agreement_without_ties": ("agreeing_without_ties", "pairs_without_ties"),
        }
        for name in ("agreement_with_ties", "agreement_without_ties", "kappa"):
            value = "\u2013" if row[name] is None else f"{row[name]:.3f}"
            if name in n and row[n[name][1]]:
                value = f"{row[n[name][0]]}/{row[n[name][1]]} = {value}"  # every share with its n
            expected.append((name, value))
    assert [(name, text.strip()) for name, text in shown] == expected
    # ... and its bootstrap interval.
    low, high = data["overall"]["intervals"]["agreement_with_ties"]
    assert f"[{low:.3f}, {high:.3f}]" in html
    assert float(exported[0]["agreement_with_ties"]) == data["overall"]["agreement_with_ties"]
    assert int(exported[0]["pairs"]) == data["overall"]["pairs"] == 18 * 3  # three raters x 18 verdicts


def test_agreement_page_defaults_to_people_against_a_judge(client, voted_arena):
    html = client.get("/agreement/").content.decode()
    assert "<code>human</code>" in html and "<code>import:paper-gpt4</code>" in html


def _newcomer(arena, name="newbie"):
    """A model whose only battle was a tie (the zero-width interval of issue 18)."""
    from arena.models import Answer, Contender

    arena.contenders[name] = Contender.objects.create(name=name)
    prompt = arena.prompts[0]
    arena.answers[(prompt.id, name)] = Answer.objects.create(
        prompt=prompt, contender=arena.contenders[name], turns=["hi", "hi"], token_counts=[1, 1]
    )
    arena.vote(arena.raters[0], prompt, name, "beta", tie=True)


def test_the_default_leaderboard_is_the_human_one_with_provisional_models_apart(client, voted_arena):
    _newcomer(voted_arena)
    page = client.get("/leaderboard/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "from <code>human</code>" in text
    head, _, provisional = text.partition('id="provisional-table"')
    assert "newbie" in provisional and 'data-model="newbie"' not in head
    assert 'id="rank-explained"' in text and "lower bound above its upper bound" in text

    data = client.get("/api/leaderboard/").json()
    assert data["params"]["source"] == "human"
    rows = {r["model"]: r for r in data["rows"]}
    assert rows["newbie"]["provisional"] is True and rows["newbie"]["battles"] == 1
    assert rows["newbie"]["ci_high"] - rows["newbie"]["ci_low"] > 300  # wide, not a zero-width bar
    assert [r["provisional"] for r in data["rows"]] == sorted(r["provisional"] for r in data["rows"])
    ranked = [r["rank"] for r in data["rows"] if not r["provisional"]]
    assert ranked == sorted(ranked)


def test_the_all_source_says_what_it_mixes(client, voted_arena):
    text = client.get("/leaderboard/", {"source": "all"}).content.decode()
    mix = text[text.index('id="source-mix"') :]
    mix = mix[: mix.index("</p>")]
    assert "<code>human</code>" in mix and "<code>import:paper-gpt4</code>" in mix


def test_without_votes_the_default_is_the_source_with_the_most_verdicts(client, arena):
    from tests.factories import imported_verdicts

    imported_verdicts(arena, "paper-gpt4")
    data = client.get("/api/leaderboard/").json()
    assert data["params"]["source"] == "import:paper-gpt4"


def test_numbers_that_cannot_be_computed_are_an_error_in_the_api_and_the_command(admin_client, voted_arena):
    from django.core.management import CommandError, call_command

    from arena.models import Answer

    Answer.objects.update(style=[])  # answers without style features: style control cannot run
    query = {"source": "human", "style_control": "1"}
    response = admin_client.get("/api/leaderboard/", query)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "not_computable" and "style features" in body["error"]
    page = admin_client.get("/leaderboard/", query).content.decode()
    assert "style features" in page and 'role="alert"' in page
    with pytest.raises(CommandError, match="style features"):
        call_command("leaderboard", "--source", "human", "--style-control", stdout=io.StringIO())


def test_clean_rater_data_leaves_out_gold_votes_and_raters_who_failed_them(client, voted_arena, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    arena = voted_arena
    settings.ARENA_GOLD_MIN_VOTES = 3
    bad = get_user_model().objects.create_user("careless", password="x")
    # Three gold comparisons (alpha clearly better): the careless rater gets all three wrong.
    for prompt in arena.prompts[:3]:
        gold = arena.comparison(prompt, "alpha", "gamma", turn=2)
        gold.is_gold = True
        gold.gold_winner = "model_a" if gold.answer_a.contender.name == "alpha" else "model_b"
        gold.save()
        arena.vote(bad, prompt, "gamma", "alpha", turn=2)
    for prompt in arena.prompts:  # ... and votes gamma over alpha everywhere else
        arena.vote(bad, prompt, "gamma", "alpha")
    clean = {r["model"]: r for r in client.get("/api/leaderboard/", {"source": "human"}).json()["rows"]}
    everything = client.get("/api/leaderboard/", {"source": "human", "rater_quality": "all"}).json()
    assert everything["params"]["rater_quality"] == "all"
    every = {r["model"]: r for r in everything["rows"]}
    assert every["gamma"]["battles"] == clean["gamma"]["battles"] + 9  # 3 gold + 6 ordinary votes left out
    assert clean["gamma"]["battles"] == 36
    out = io.StringIO()
    call_command(
        "leaderboard",
        "--source",
        "human",
        "--rater-quality",
        "all",
        "--bootstrap",
        "0",
        "--format",
        "json",
        stdout=out,
    )
    assert {r["model"]: r["battles"] for r in json.loads(out.getvalue())}["gamma"] == every["gamma"][
        "battles"
    ]
    page = client.get("/leaderboard/", {"source": "human"}).content.decode()
    assert "without gold comparisons, raters who failed the gold checks or anomalous raters" in page
    assert client.get("/api/leaderboard/", {"rater_quality": "some"}).json()["field"] == "rater_quality"
