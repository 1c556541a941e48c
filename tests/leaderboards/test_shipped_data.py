"""On the real MT-Bench verdicts shipped with Arena: people and GPT-4 rank GPT-4 first, and they
agree as often as the MT-Bench paper reports for GPT-4 (pair) vs. humans: S1 66 %, S2 85 %."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import module_data

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _mt_bench_imported(django_db_setup, django_db_blocker):
    """Imported once for the module (15 s or so), not once per test."""
    from arena.services import imports
    from arena.services.prompt_sets import prompt_sets_load_bundled

    with module_data(django_db_blocker):
        prompt_sets_load_bundled()
        demo = settings.ARENA_DATA_DIR / "demo"
        for path in sorted((demo / "mt_bench" / "model_answer").glob("*.jsonl")):
            imports.answers_import(path=path, fmt="fastchat", prompt_set="mt_bench")
        for path in sorted((demo / "mt_bench" / "human").glob("*.jsonl")):
            imports.verdicts_import(
                path=path, fmt="mtbench_human", source="mtbench-human", prompt_set="mt_bench"
            )
        for path in sorted((demo / "mt_bench" / "gpt4").glob("*.jsonl")):
            imports.verdicts_import(path=path, fmt="fastchat", source="mtbench-gpt4", prompt_set="mt_bench")
        yield


@pytest.fixture
def mt_bench_verdicts(_mt_bench_imported, db):
    """The shipped MT-Bench answers with the experts' and GPT-4's verdicts."""


def test_people_and_gpt4_put_gpt4_first_and_agree_as_in_the_paper(client, mt_bench_verdicts):
    out = io.StringIO()
    call_command(
        "leaderboard", "--source", "import:mtbench-human", "--bootstrap", "50", "--format", "json", stdout=out
    )
    human = json.loads(out.getvalue())
    judge = client.get("/api/leaderboard/", {"source": "import:mtbench-gpt4"}).json()
    agreement = client.get(
        "/api/agreement/", {"a": "import:mtbench-human", "b": "import:mtbench-gpt4"}
    ).json()

    assert human[0]["model"] == "gpt-4"
    assert judge["rows"][0]["model"] == "gpt-4"
    assert all(r["ci_low"] <= r["rating"] <= r["ci_high"] for r in human)
    assert agreement["overall"]["agreement_with_ties"] == pytest.approx(0.66, abs=0.03)
    assert agreement["overall"]["agreement_without_ties"] == pytest.approx(0.85, abs=0.03)
    assert client.get("/leaderboard/", {"source": "import:mtbench-human"}).status_code == 200
    assert client.get("/bias/", {"source": "import:mtbench-gpt4"}).status_code == 200


def test_style_control_on_mt_bench_drops_what_cannot_be_fitted_and_names_it(admin_client, mt_bench_verdicts):
    query = {
        "source": "import:mtbench-human",
        "prompt_set": "mt_bench",
        "style_control": "1",
        "bootstrap": "20",
    }
    response = admin_client.get("/api/leaderboard/", query)
    data = response.json()
    assert response.status_code == 200 and not data.get("error")
    assert data["rows"][0]["model"] == "gpt-4" and len(data["rows"]) == 6
    assert [c["name"] for c in data["style_coefficients"]] == ["length", "list_items"]
    dropped = next(n for n in data["notes"] if n.startswith("Style control left out"))
    assert "headers (differs between the answers in only 4 battles" in dropped
    assert "bold (the same for both answers in every battle)" in dropped
    page = admin_client.get("/leaderboard/", query).content.decode()
    assert "Style control left out headers" in page and "Singular matrix" not in page
    assert 'id="style-coefficients"' in page


def test_within_source_agreement_of_the_mt_bench_experts_is_the_papers(admin_client, mt_bench_verdicts):
    out = io.StringIO()
    call_command(
        "agreement",
        "--a",
        "import:mtbench-human",
        "--b",
        "import:mtbench-human",
        "--raters",
        "expert",
        "--bootstrap",
        "100",
        "--format",
        "json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    turn1 = next(t for t in report["per_turn"] if t["turn"] == 1)
    assert (turn1["agreeing"], turn1["pairs"]) == (454, 721)
    assert (turn1["agreeing_without_ties"], turn1["pairs_without_ties"]) == (388, 479)
    low, high = turn1["intervals"]["agreement_with_ties"]
    assert low < 454 / 721 < high
    table = io.StringIO()
    call_command(
        "agreement",
        "--a",
        "import:mtbench-human",
        "--b",
        "import:mtbench-human",
        "--raters",
        "expert",
        "--bootstrap",
        "50",
        stdout=table,
    )
    assert "454/721 = 0.630" in table.getvalue() and "388/479 = 0.810" in table.getvalue()
    api = admin_client.get(
        "/api/agreement/",
        {"a": "import:mtbench-human", "b": "import:mtbench-human", "raters": "expert", "bootstrap": "50"},
    ).json()
    assert next(t for t in api["per_turn"] if t["turn"] == 1)["pairs"] == 721


def test_agreement_on_too_few_pairs_is_refused_with_a_message(admin_client, mt_bench_verdicts, settings):
    settings.ARENA_AGREEMENT_MIN_PAIRS = 10_000
    response = admin_client.get("/api/agreement/", {"a": "import:mtbench-human", "b": "import:mtbench-gpt4"})
    assert response.status_code == 422 and "agreement needs at least 10000 pairs" in response.json()["error"]


def test_bias_of_mt_bench_gpt4_pair_says_the_order_is_not_recorded(client, mt_bench_verdicts):
    """MT-Bench's gpt4_pair verdicts each combine GPT-4's two orders: no first-position share,
    their "tie (inconsistent)" flags give the consistency figure."""
    data = client.get("/api/bias/", {"source": "import:mtbench-gpt4"}).json()
    [row] = data["position"]["rows"]
    assert row["order_recorded"] is False and row["first_shown_wins"] is None
    [consistency] = data["consistency"]["rows"]
    flagged = sum(
        '"tie (inconsistent)"' in line
        for path in (settings.ARENA_DATA_DIR / "demo" / "mt_bench" / "gpt4").glob("*.jsonl")
        for line in path.read_text().splitlines()
    )
    assert flagged > 0 and consistency["inconsistent"] == flagged
    assert consistency["pairs"] == data["battle_total"]
    html = client.get("/bias/", {"source": "import:mtbench-gpt4"}).content.decode()
    assert "order not recorded" in html and "p 0.000" not in html
