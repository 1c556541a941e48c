"""The benchmarks' own PostgreSQL databases on the local server, named by their DATABASE_URL."""

from __future__ import annotations


def ensure_database(url: str, *, recreate: bool = False) -> None:
    """Create the database named at the end of ``url`` if it is missing; with ``recreate``, drop it
    first (disconnecting its sessions), so the run starts from an empty database."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if recreate:
            conn.execute(f'drop database if exists "{name}" with (force)')
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(f'create database "{name}"')
