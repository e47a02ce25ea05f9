"""The benchmarks' databases: named, created, dropped, bulk-loaded and checked.

Each benchmark creates its own database on the server of an admin URL
(PostgreSQL, or SQLite files beside the admin file for the smoke tests) and
drops it afterwards. Bulk loads drop a table's secondary indexes and build
them afterwards: one sort each instead of millions of index inserts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

T = TypeVar("T")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server (or in the directory) of `admin_url`."""
    if not _NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    url = make_url(admin_url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).resolve().parent if url.database else Path.cwd()
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    return url.set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database `name` (dropped first if a previous run left it)."""
    drop_database(admin_url, name)
    url = database_url(admin_url, name)
    if not is_sqlite(url):
        _admin(admin_url, f'CREATE DATABASE "{name}"')
    return url


def drop_database(admin_url: str, name: str) -> None:
    url = database_url(admin_url, name)
    if is_sqlite(url):
        path = Path(make_url(url).database)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def with_connection(url: str, fn: Callable[[Connection], T]) -> T:
    """`fn(conn)` on a connection of its own to `url`."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def server_version(url: str) -> str:
    def version(conn: Connection) -> str:
        if conn.dialect.name == "postgresql":
            return "PostgreSQL " + conn.scalar(text("SHOW server_version"))
        return "SQLite " + conn.scalar(text("SELECT sqlite_version()"))

    return with_connection(url, version)


def reset_sequences(conn: Connection, tables: tuple[str, ...]) -> None:
    """After explicit ids, PostgreSQL's sequences must continue after them."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
            f"GREATEST((SELECT max(id) FROM {table}), 1))"))


@contextmanager
def without_secondary_indexes(conn: Connection, table: str, unique_constraints: bool = False,
                              work_mem: str = "512MB") -> Iterator[None]:
    """PostgreSQL: drop `table`'s secondary indexes (and, if asked, its unique constraints)
    for a bulk load, and build them again after it."""
    if conn.dialect.name != "postgresql":
        yield
        return
    constraints = conn.execute(text(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'u'"), {"t": table}).all() \
        if unique_constraints else []
    indexes = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = :t AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
    ), {"t": table}).all()
    for name, _ in constraints:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    yield
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{work_mem}'"))
    for name, definition in constraints:
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    for _, definition in indexes:
        conn.execute(text(definition))


def vacuum_analyze(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("VACUUM"))
            conn.execute(text("ANALYZE"))
