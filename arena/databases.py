"""Creating the PostgreSQL database a DATABASE_URL names, for `make serve` and the benchmarks.

No Django: it runs before there is a database to configure Django against.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})


def database_name(url: str) -> str | None:
    """The database a PostgreSQL URL names; None for any other kind of URL (SQLite needs no server)."""
    parts = urlsplit(url)
    return unquote(parts.path.lstrip("/")) if parts.scheme in POSTGRES_SCHEMES else None


def database_ensure(url: str, *, recreate: bool = False) -> bool:
    """Create the database ``url`` names if it is missing; True if it was created.

    The server is reached through its ``postgres`` maintenance database with the same host, user
    and options. With ``recreate`` the database is dropped first (its sessions disconnected), so a
    benchmark starts from an empty one.
    """
    import psycopg
    from psycopg import sql

    name = database_name(url)
    if not name:
        raise ValueError("not a PostgreSQL URL naming a database")
    parts = urlsplit(url)
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if recreate:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return True
