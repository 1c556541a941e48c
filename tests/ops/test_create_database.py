"""`manage.py create_database`: `make serve` on a new server creates its database first."""

from __future__ import annotations

import secrets
from io import StringIO

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from arena.databases import database_ensure


def _server_url(name: str) -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def _exists(name: str) -> bool:
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        return conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None


@pytest.fixture
def fresh_name():  # type: ignore[no-untyped-def]
    name = f"arena_create_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def run(url: str) -> str:
    out = StringIO()
    with override_settings(DATABASE_URL=url):
        call_command("create_database", stdout=out)
    return out.getvalue()


def test_creates_a_missing_database_once(fresh_name: str) -> None:
    url = _server_url(fresh_name)
    assert f"created database {fresh_name}" in run(url)
    assert _exists(fresh_name)
    assert f"database {fresh_name} exists" in run(url)


def test_recreate_empties_the_database(fresh_name: str) -> None:
    url = _server_url(fresh_name)
    database_ensure(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table leftover (id int)")
    assert database_ensure(url, recreate=True) is True
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select to_regclass('leftover')").fetchone() == (None,)


def test_sqlite_needs_nothing() -> None:
    assert "nothing to create" in run("sqlite:///var/arena.sqlite3")


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="cannot create database nowhere"):
        run("postgres://postgres@127.0.0.1:1/nowhere")
