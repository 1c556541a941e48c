"""The bias report on page, API and command: position bias only where the shown order is
recorded ("order not recorded" otherwise), imported inconsistency flags in the consistency
table, provenance caveats, one table per question, p-values as "< 0.001", and an error (422,
non-zero exit) when there is nothing to compute."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from arena.models import ImportedVerdict, PromptSet
from tests.factories import build_arena, human_votes, imported_verdicts


def _combined_orders(arena, name: str = "pair-gpt4", flagged: int = 5):
    """An import like MT-Bench's gpt4_pair: single verdicts standing for both orders, some
    flagged "tie (inconsistent)" by the source."""
    source = imported_verdicts(arena, name)
    ids = list(
        ImportedVerdict.objects.filter(source=source).order_by("id").values_list("id", flat=True)[:flagged]
    )
    ImportedVerdict.objects.filter(id__in=ids).update(winner="tie", metadata={"inconsistent": True})
    return source


@pytest.fixture
def big_arena(db):
    arena = build_arena(prompts=40)
    human_votes(arena)
    imported_verdicts(arena)  # 80 % model_a with model_a shown first: a strong first-position share
    return arena


def test_a_source_combining_both_orders_says_order_not_recorded(client, big_arena):
    _combined_orders(big_arena)
    data = client.get("/api/bias/", {"source": "import:pair-gpt4"}).json()
    [row] = data["position"]["rows"]
    assert row["order_recorded"] is False and row["first_shown_wins"] is None
    [consistency] = data["consistency"]["rows"]
    assert consistency["pairs"] == 120 and consistency["inconsistent"] == 5
    assert consistency["consistent"]["successes"] == 115
    assert any("combines the judge's two presentation orders (5 of 120" in c for c in data["caveats"])

    html = client.get("/bias/", {"source": "import:pair-gpt4"}).content.decode()
    assert "order not recorded" in html
    assert "5 of 120 flagged inconsistent" in html
    assert "0.958" in html  # 115/120 consistent, shown with its n and interval

    exported = client.get("/api/bias/", {"source": "import:pair-gpt4", "format": "csv"}).content.decode()
    assert "position.rows[import:pair-gpt4].order_recorded,False" in exported.splitlines()

    out = io.StringIO()
    call_command("bias_report", "--source", "import:pair-gpt4", stdout=out)
    assert re.search(r"import:pair-gpt4\s+order not recorded", out.getvalue())


def test_one_table_per_question_with_n_interval_and_printed_p(client, big_arena):
    data = client.get("/api/bias/", {"source": "import:paper-gpt4"}).json()
    [row] = data["position"]["rows"]
    share = row["first_shown_wins"]
    assert share["trials"] > 90 and share["p_value"] < 0.001
    assert data["position"]["overall"] is None  # one source: no repeated pooled block

    html = client.get("/bias/", {"source": "import:paper-gpt4"}).content.decode()
    for table in ("position-table", "length-table"):
        assert html.count(f'id="{table}"') == 1
    position = html[
        html.index('id="position-table"') : html.index("</table>", html.index('id="position-table"'))
    ]
    assert position.count('data-source="') == 1
    assert "&lt; 0.001" in position and "0.000" not in position
    assert f"{share['ci_low']:.3f}–{share['ci_high']:.3f}" in position
    assert "by source ·" not in html  # no flattened key dump


def test_nothing_to_compute_is_an_error_on_api_page_and_command(client, big_arena):
    PromptSet.objects.create(slug="empty-set", name="empty set")
    query = {"source": "import:paper-gpt4", "prompt_set": "empty-set"}
    response = client.get("/api/bias/", query)
    assert response.status_code == 422
    assert response.json()["code"] == "not_computable" and "No verdicts" in response.json()["error"]
    page = client.get("/bias/", query).content.decode()
    assert 'data-error="not-computable"' in page
    with pytest.raises(CommandError, match="No verdicts from import:paper-gpt4 on empty-set"):
        call_command(
            "bias_report", "--source", "import:paper-gpt4", "--prompt-set", "empty-set", stdout=io.StringIO()
        )
    out = io.StringIO()
    call_command("bias_report", "--source", "import:paper-gpt4", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["position"]["rows"][0]["order_recorded"] is True
