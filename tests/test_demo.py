"""A new user runs the demo: every shipped file imports with the counts its PROVENANCE gives,
the home page shows them, and running the demo again writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from arena.models import Answer, Comparison, Contender, ImportBatch, ImportedVerdict, Prompt, VerdictSource
from tests.conftest import module_data

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _demo_loaded(django_db_setup, django_db_blocker):
    """The demo loaded once for the module (about 12 s), not once per test."""
    out = io.StringIO()
    with module_data(django_db_blocker):
        call_command("load_demo", stdout=out)
        yield out.getvalue()


@pytest.fixture
def demo(_demo_loaded, db):
    return _demo_loaded


def verdict_counts(source: str) -> dict[str, int]:
    rows = ImportedVerdict.objects.filter(source__name=source).values("winner").annotate(n=Count("id"))
    return {r["winner"] or "unparsed": r["n"] for r in rows}


def test_demo_loads_every_shipped_file_with_provenance_counts(demo):
    assert Prompt.objects.count() == 80 + 80 + 252
    per_set = dict(Answer.objects.values_list("prompt__prompt_set__slug").annotate(n=Count("id")))
    # Vicuna-80: 7 FastChat models + PRD's Claude and GPT-4 + 4 Guanaco sizes; MT-Bench: 31 models
    # + vicuna-13b-v1.2 (79, question 144 missing); Self-Instruct: 8 GPT-3 variants.
    assert per_set == {"vicuna80": 13 * 80, "mt_bench": 31 * 80 + 79, "user_oriented_252": 8 * 252}
    assert Answer.objects.filter(prompt__prompt_set__slug="mt_bench", contender__name="gpt-4").count() == 80
    assert (
        Contender.objects.filter(
            name__in=["guanaco-33b", "claude", "gpt-3.5-turbo", "vicuna-13b-v1.2"]
        ).count()
        == 4
    )

    assert sum(verdict_counts("vicuna80-gpt4-review").values()) == 1040
    assert verdict_counts("vicuna80-gpt4-review")["tie"] == 100
    # PRD crowd votes: the 56 QLoRA-study files (first shown wins 3010, second 2945, ties 765) plus
    # the 4 Claude files (Claude first: 201 wins, 80 losses, 39 ties).
    assert verdict_counts("prd-human") == {"model_a": 3010 + 201, "model_b": 2945 + 80, "tie": 765 + 39}
    assert sum(verdict_counts("prd-gpt4").values()) == 1600
    assert verdict_counts("qlora-gpt4") == {"model_a": 2512, "model_b": 1355, "tie": 600, "unparsed": 13}
    human = verdict_counts("mtbench-human")
    assert sum(human.values()) == 1689 + 869
    assert ImportedVerdict.objects.filter(source__name="mtbench-human", turn=1).count() == 1689
    assert verdict_counts("mtbench-gpt4") == {"model_b": 827, "tie": 196 + 108, "model_a": 109}
    assert set(VerdictSource.objects.filter(is_human=True).values_list("name", flat=True)) == {
        "prd-human",
        "mtbench-human",
    }
    assert "Demo login: username 'demo'" in demo


def test_demo_has_comparisons_to_rate_in_every_bundled_set(demo):
    per_set = dict(Comparison.objects.values_list("prompt__prompt_set__slug").annotate(n=Count("id")))
    assert set(per_set) == {"vicuna80", "mt_bench", "user_oriented_252"}
    # Two pairs per prompt, less the answers left out as identity-revealing.
    assert 0.9 * 2 * 80 <= per_set["vicuna80"] <= 2 * 80
    assert 0.9 * 2 * 80 <= per_set["mt_bench"] <= 2 * 80
    assert 0.9 * 2 * 252 <= per_set["user_oriented_252"] <= 2 * 252
    assert set(
        Comparison.objects.filter(prompt__prompt_set__slug="mt_bench").values_list("turn", flat=True)
    ) == {2}


def test_running_the_demo_again_writes_nothing(demo, capsys):
    before = (Answer.objects.count(), ImportedVerdict.objects.count(), ImportBatch.objects.count())
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "already imported" in out
    assert (Answer.objects.count(), ImportedVerdict.objects.count(), ImportBatch.objects.count()) == before


def test_home_page_lists_prompt_sets_contenders_and_counts(demo, client):
    page = client.get("/").content.decode()
    assert "vicuna80" in page and "mt_bench" in page and "user_oriented_252" in page
    assert "guanaco-65b" in page
    assert f"{Answer.objects.count():,}" in page
    assert "import:mtbench-human" in page
