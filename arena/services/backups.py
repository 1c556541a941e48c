"""Backups and moving between databases: every table Arena owns as JSONL, plus a manifest.

``backup_export`` writes one ``<app>.<model>.jsonl`` per table (rows as their column values,
primary keys kept, M2M link tables as tables of their own) and ``manifest.json`` with row
counts and SHA-256 checksums. ``backup_import`` restores into an empty database in one
transaction — all or nothing — after checking the manifest. Judge and contender configurations
carry only the *name* of their API-key variable, never a key (a value that is not a variable name,
a key pasted by mistake, is written as empty).

A backup is not trusted on the way back in: a manifest may only name files inside the backup
folder (no ``../``, no absolute paths, no symlinks leading out), and the HTML stored beside every
prompt and answer is thrown away and rendered again from the text by ``arena.markdown``, so a
crafted backup cannot put markup of its own onto a rating page. With ``pseudonymise`` rater identities (user
accounts and the rater names of imported verdicts) become stable pseudonyms, the same name
always the same pseudonym, and passwords are dropped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from arena.keys import is_variable_name
from arena.markdown import rendered_turns
from arena.models import ImportedVerdict

FORMAT = "arena-backup"
VERSION = 1
APPS = ("auth", "arena", "judge")
# Permissions and content types are recreated by migrate with possibly different ids, and
# sessions are transient; user and group permission links are therefore not carried. Failed
# log-ins are transient too (and hold client addresses).
SKIPPED = {"auth.permission", "auth.group_permissions", "auth.user_user_permissions", "arena.loginfailure"}
BATCH = 2000


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class BackupSummary:
    directory: Path
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def backup_models() -> list[type[models.Model]]:
    """Every table to carry, parents before children (foreign keys point backwards)."""
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in APPS and _label(m) not in SKIPPED and m._meta.managed and not m._meta.proxy
    ]
    ordered: list[type[models.Model]] = []
    remaining = list(candidates)
    while remaining:
        progressed = False
        for model in list(remaining):
            parents = {
                f.related_model
                for f in model._meta.concrete_fields
                if f.is_relation and f.related_model is not model and f.related_model in candidates
            }
            if parents <= set(ordered):
                ordered.append(model)
                remaining.remove(model)
                progressed = True
        if not progressed:
            raise BackupError(f"circular foreign keys among {[_label(m) for m in remaining]}")
    return ordered


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _pseudonym(salt: str, username: str) -> str:
    return "rater-" + hashlib.sha256(f"{salt}:{username}".encode()).hexdigest()[:12]


def _rows(model: type[models.Model], pseudonymise_salt: str | None) -> Iterable[dict[str, Any]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    is_user = model is get_user_model()
    is_verdict = model is ImportedVerdict
    for row in model._default_manager.order_by("pk").values(*fields).iterator(BATCH):
        if is_user and pseudonymise_salt is not None:
            row.update(
                username=_pseudonym(pseudonymise_salt, row["username"]),
                email="",
                first_name="",
                last_name="",
                password="!" + secrets.token_urlsafe(16),  # unusable: "!" prefix, as set_unusable_password
            )
        if is_verdict and pseudonymise_salt is not None and row["rater"]:
            row["rater"] = _pseudonym(pseudonymise_salt, row["rater"])
        if row.get("api_key_env") and not is_variable_name(row["api_key_env"]):
            row["api_key_env"] = ""  # a key pasted where a variable's name belongs never leaves
        yield {k: _encode(v) for k, v in row.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backup_export(*, directory: Path, pseudonymise: bool = False) -> BackupSummary:
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; export into a new directory")
    salt = secrets.token_hex(16) if pseudonymise else None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": timezone.now().isoformat(),
        "pseudonymised": pseudonymise,
        "migrations": {
            app: sorted(MigrationRecorder.Migration.objects.filter(app=app).values_list("name", flat=True))
            for app in APPS
        },
        "tables": [],
    }
    counts: dict[str, int] = {}
    with transaction.atomic():  # one consistent snapshot of every table
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for model in backup_models():
            label = _label(model)
            path = directory / f"{label}.jsonl"
            n = 0
            with path.open("w", encoding="utf-8") as fh:
                for row in _rows(model, salt):
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                    n += 1
            counts[label] = n
            manifest["tables"].append({"model": label, "file": path.name, "rows": n, "sha256": _sha256(path)})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupSummary(directory, counts)


def _rerendered(model: type[models.Model], values: dict[str, Any]) -> None:
    """Prompts and answers: the stored HTML is replaced by HTML rendered here from the text."""
    if "rendered" not in values or "turns" not in values:
        return
    turns = values["turns"]
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise ValueError(f"column 'turns' must be a list of strings, not {type(turns).__name__}")
    values["rendered"] = rendered_turns(turns)


def _decode(model: type[models.Model], row: dict[str, Any]) -> models.Model:
    values = {}
    for field in model._meta.concrete_fields:
        if field.attname not in row:
            if field.has_default() or field.null:
                continue
            raise BackupError(f"{_label(model)}: a row lacks column {field.attname!r}")
        value = row[field.attname]
        if value is not None and isinstance(
            field,
            models.DateTimeField
            | models.DateField
            | models.TimeField
            | models.DecimalField
            | models.UUIDField,
        ):
            value = field.to_python(value)
        values[field.attname] = value
    _rerendered(model, values)
    return model(**values)


@contextmanager
def _stored_timestamps(model: type[models.Model]) -> Iterator[None]:
    """Keep the backup's created/updated times: auto_now fields would overwrite them on save."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField | models.TimeField) and (f.auto_now or f.auto_now_add)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _inside(directory: Path, name: object) -> Path:
    """``directory / name`` for a plain file name whose file (symlinks followed) is inside ``directory``."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
    ):
        raise BackupError(f"manifest: {name!r} is not a file name inside the backup folder")
    path = directory / name
    if not path.resolve().is_relative_to(directory.resolve()):
        raise BackupError(f"manifest: {name!r} leads outside the backup folder")
    return path


def _manifest_tables(manifest_path: Path) -> list[dict[str, Any]]:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or manifest.get("version") != VERSION
    ):
        raise BackupError(f"{manifest_path}: not an {FORMAT} version {VERSION} manifest")
    tables = manifest.get("tables")
    keys = {"model": str, "file": str, "rows": int, "sha256": str}
    if not isinstance(tables, list) or not all(
        isinstance(t, dict) and all(isinstance(t.get(k), kind) for k, kind in keys.items()) for t in tables
    ):
        raise BackupError(f"{manifest_path}: 'tables' must list objects with {', '.join(keys)}")
    return tables


def backup_import(*, directory: Path) -> BackupSummary:
    manifest_path = _inside(directory, "manifest.json")
    if not manifest_path.exists():
        raise BackupError(f"{manifest_path}: no manifest; is this an Arena backup directory?")
    tables = _manifest_tables(manifest_path)
    by_label = {_label(m): m for m in backup_models()}
    unknown = [t["model"] for t in tables if t["model"] not in by_label]
    if unknown:
        raise BackupError(f"the backup has tables this Arena does not know: {', '.join(unknown)}")
    for table in tables:
        path = _inside(directory, table["file"])
        if not path.is_file() or _sha256(path) != table["sha256"]:
            raise BackupError(f"{path}: missing or its checksum does not match the manifest")
    non_empty = [label for label, m in by_label.items() if m._default_manager.exists()]
    if non_empty:
        raise BackupError(f"restore needs an empty database; these tables hold rows: {', '.join(non_empty)}")

    counts: dict[str, int] = {}
    with transaction.atomic():
        for table in tables:
            model = by_label[table["model"]]
            batch: list[models.Model] = []
            n = 0
            with _stored_timestamps(model), _inside(directory, table["file"]).open(encoding="utf-8") as fh:
                for line_number, line in enumerate(fh, 1):
                    try:
                        batch.append(_decode(model, json.loads(line)))
                    except (ValueError, TypeError) as exc:
                        raise BackupError(f"{table['file']}, line {line_number}: {exc}") from exc
                    n += 1
                    if len(batch) >= BATCH:
                        model._default_manager.bulk_create(batch)
                        batch = []
                model._default_manager.bulk_create(batch)
            if n != table["rows"]:
                raise BackupError(f"{table['file']}: {n} rows but the manifest says {table['rows']}")
            counts[table["model"]] = n
        # Primary keys were kept, so the sequences must move past them for new rows.
        sql = connection.ops.sequence_reset_sql(no_style(), list(by_label.values()))
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
    return BackupSummary(directory, counts)
