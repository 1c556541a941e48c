"""An operator backs up a populated Arena and restores it into an empty database: every row
comes back identical; a tampered or partial backup restores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from arena.models import Assignment, ImportedVerdict, RaterPool, Vote
from arena.services.backups import backup_models
from judge.models import Judge, JudgeRun, Judgment
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def populated(tmp_path):
    pset = factories.prompt_set("custom")
    prompt = factories.prompt(pset, external_id="q1", turns=("Hello?", "And?"), references=("Hi.", "Bye."))
    comparison = factories.comparison(prompt, "alpha", "beta")
    user_model = get_user_model()
    rita = user_model.objects.create_user("rita", email="rita@example.org", password="pw-123-secret")
    pool = RaterPool.objects.create(name="pilot")
    pool.members.add(rita)
    pool.prompt_sets.add(pset)
    assignment = Assignment.objects.create(
        rater=rita,
        comparison=comparison,
        a_shown_first=False,
        status="voted",
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    Vote.objects.create(
        rater=rita,
        comparison=comparison,
        assignment=assignment,
        a_shown_first=False,
        winner="model_b",
        grade_a="C",
        grade_b="A",
        helpful="model_b",
        comment="ünïcode ✓",
    )
    judge = Judge.objects.create(
        name="gpt-4", model="gpt-4", api_key_env="OPENAI_API_KEY", price_input_per_million="10.5000"
    )
    run = JudgeRun.objects.create(judge=judge, prompt_set=pset)
    run.contenders.add(*factories.contender("alpha").__class__.objects.all())
    Judgment.objects.create(
        run=run,
        comparison=comparison,
        order=1,
        status="done",
        winner="model_a",
        cost="0.012345",
        input_tokens=900,
        output_tokens=120,
        completed_at=timezone.now(),
    )
    tsv = tmp_path / "b.jsonl"
    tsv.write_text(
        json.dumps({"model_a": "alpha", "model_b": "gamma", "winner": "tie", "question_id": "q1"}) + "\n"
    )
    call_command("import_battles", str(tsv), "--format", "fastchat", "--source", "sample")
    return tmp_path


def snapshot() -> dict[str, list[dict]]:
    return {m._meta.label_lower: list(m.objects.order_by("pk").values()) for m in backup_models()}


def empty_database() -> None:
    for model in reversed(backup_models()):
        model.objects.all().delete()


def test_export_then_import_into_an_empty_database_round_trips_every_row(populated):
    before = snapshot()
    assert sum(len(rows) for rows in before.values()) > 15
    call_command("export_all", str(populated / "backup"))
    manifest = json.loads((populated / "backup" / "manifest.json").read_text())
    assert {t["model"] for t in manifest["tables"]} >= {
        "arena.vote",
        "judge.judgment",
        "judge.judge",
        "arena.answer",
    }
    assert (
        "OPENAI_API_KEY" in (populated / "backup" / "judge.judge.jsonl").read_text()
    )  # the variable's name only

    empty_database()
    call_command("import_all", str(populated / "backup"))
    assert snapshot() == before
    # New rows still get fresh ids after the restore.
    assert get_user_model().objects.create_user("newcomer").pk > max(u["id"] for u in before["auth.user"])


def test_pseudonymised_export_hides_rater_identities(populated):
    call_command("export_all", str(populated / "backup"), "--pseudonymise")
    users = (populated / "backup" / "auth.user.jsonl").read_text()
    assert "rita" not in users and "example.org" not in users and "pbkdf2" not in users
    empty_database()
    call_command("import_all", str(populated / "backup"))
    vote = Vote.objects.get()
    assert vote.rater.username.startswith("rater-") and not vote.rater.has_usable_password()
    assert vote.comment == "ünïcode ✓"


def test_a_tampered_backup_restores_nothing(populated):
    call_command("export_all", str(populated / "backup"))
    votes = populated / "backup" / "arena.vote.jsonl"
    votes.write_text(votes.read_text().replace("model_b", "model_a"))
    empty_database()
    with pytest.raises(CommandError, match=r"checksum does not match.*nothing was restored"):
        call_command("import_all", str(populated / "backup"))
    assert ImportedVerdict.objects.count() == 0 and get_user_model().objects.count() == 0


def test_restore_refuses_a_database_that_is_not_empty(populated):
    call_command("export_all", str(populated / "backup"))
    with pytest.raises(CommandError, match="needs an empty database"):
        call_command("import_all", str(populated / "backup"))
