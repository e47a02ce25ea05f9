"""The differences between PostgreSQL and SQLite, in one place.

The product runs on PostgreSQL and, for development and the tests, on
SQLite. Where the two differ (row locks, `SKIP LOCKED`, ON CONFLICT inserts,
date functions, how a JSON parameter reaches the driver, autocommit), the
operations ask this module instead of looking at `dialect.name` themselves:

- `is_postgresql(bind)`: for the few operations that take another road on
  PostgreSQL (one statement with data-modifying CTEs or arrays where SQLite
  needs several);
- `flavour(bind)`: the key under which an operation keeps the statements it
  builds once per backend;
- `insert(table, flavour)`, `insert_ignore(...)`: an INSERT with ON CONFLICT
  (both backends have it, each with its own construct);
- `skip_locked(select, flavour)`: `FOR UPDATE SKIP LOCKED` on PostgreSQL;
  SQLite has no row locks (a writer holds the whole database), so the
  select is left as it is;
- `lease_rows(model, condition, order_by, lease, limit)`: claim rows for one worker (the
  callbacks' dispatch, the webhook deliveries): locked and skipped on PostgreSQL,
  compare-and-set on SQLite;
- `utc_date(column, bind)`, `json_bind_processor(dialect, dumps)`,
  `use_autocommit(session)`, `savepoint(session)` (every savepoint of the product).

`bind` is anything that knows its dialect: a session (the default,
`db.session`), a connection, an engine, or the dialect itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from registry.core.extensions import db

POSTGRESQL, SQLITE = "postgresql", "sqlite"
_INSERTS = {POSTGRESQL: postgresql.insert, SQLITE: sqlite.insert}


def dialect_of(bind=None) -> Dialect:
    """The dialect of `bind` (a session, connection, engine or dialect; default `db.session`)."""
    if bind is None:
        bind = db.session
    if isinstance(bind, Dialect):
        return bind
    dialect = getattr(bind, "dialect", None)  # an Engine or a Connection
    return dialect if dialect is not None else bind.get_bind().dialect


def flavour(bind=None) -> str:
    """`"postgresql"` or `"sqlite"`: the key for statements built once per backend."""
    return dialect_of(bind).name


def is_postgresql(bind=None) -> bool:
    """Whether `bind` talks to PostgreSQL (else SQLite)."""
    return dialect_of(bind).name == POSTGRESQL


def insert(table, flavour: str):
    """An INSERT into `table` in `flavour`'s own construct, which has `on_conflict_do_nothing`
    and `on_conflict_do_update` (and `.excluded`) on both backends."""
    return _INSERTS[flavour](table)


def insert_ignore(table, flavour: str, index_elements=None):
    """An INSERT that does nothing where a unique index already holds the row (no error,
    so no savepoint to roll back): `ON CONFLICT [(index_elements)] DO NOTHING`."""
    return insert(table, flavour).on_conflict_do_nothing(index_elements=index_elements)


def skip_locked(query, flavour: str, **for_update):
    """`query` locking the rows it reads and passing over those other transactions hold
    (`FOR UPDATE ... SKIP LOCKED`, `for_update` as `with_for_update` takes it) on
    PostgreSQL; on SQLite, unchanged: one writer at a time holds the whole database,
    so there are no row locks to take or skip."""
    if flavour == POSTGRESQL:
        return query.with_for_update(skip_locked=True, **for_update)
    return query


def lease_rows(model, condition, order_by, lease: dict, limit: int) -> list:
    """Lease up to `limit` rows of `model` meeting `condition` (writing `lease`, the lease's
    columns), `order_by` first; the rows leased as `(id, key)`, `key` being `order_by`'s value.
    Only flushes: the caller commits the leases before it works on the rows.

    PostgreSQL: one statement. The rows are locked skipping those other transactions hold, FOR
    NO KEY UPDATE (the lock the UPDATE takes anyway: unlike FOR UPDATE it neither waits for nor
    passes over a row whose children another transaction is inserting), in a MATERIALIZED CTE
    run once: as `id IN (subquery)` the planner may rescan it for each row, and each rescan
    skips the rows just updated and locks the next ones, so the LIMIT would bound nothing.
    SQLite: one writer holds the whole database, so each candidate is leased by
    compare-and-set (an UPDATE that still finds it meeting `condition`)."""
    if is_postgresql(db.session):
        locked = select(model.id).where(condition).order_by(order_by).limit(limit) \
            .with_for_update(skip_locked=True, key_share=True, of=model).cte("locked") \
            .prefix_with("MATERIALIZED")
        rows = db.session.execute(
            update(model).where(model.id == locked.c.id, condition).values(**lease)
            .returning(model.id, order_by.label("key"))
            .execution_options(synchronize_session=False)).all()
        return sorted(rows, key=lambda row: row.key)
    leased = []
    for row in db.session.execute(select(model.id, order_by.label("key")).where(condition)
                                    .order_by(order_by).limit(limit)).all():
        changed = db.session.execute(update(model).where(model.id == row.id, condition).values(**lease)
                                     .execution_options(synchronize_session=False))
        if changed.rowcount == 1:
            leased.append(row)
    return leased


def utc_date(column, bind=None):
    """The UTC calendar day of a timestamp column."""
    if is_postgresql(bind):
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC timestamps as text


def json_bind_processor(dialect: Dialect, dumps: Callable[[object], str]) -> Callable:
    """How a JSON value goes to the driver as a parameter, written by `dumps`: psycopg
    wants its `Json` wrapper (plain text would be taken as a JSON string), the others text."""
    if dialect.name == POSTGRESQL and dialect.driver == "psycopg":
        from psycopg.types.json import Json

        return lambda value: None if value is None else Json(value, dumps=dumps)
    return lambda value: None if value is None else dumps(value)


def use_autocommit(session=None) -> None:
    """On PostgreSQL, run the session's statements from here on in autocommit: each of a
    request's few statements commits itself, which saves a transaction's BEGIN and COMMIT
    round trips. SQLite keeps its transaction (nothing to save there)."""
    session = session if session is not None else db.session
    if is_postgresql(session):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def begin_for_savepoints(session=None) -> None:
    """Make sure the session's database transaction has begun before savepoints are taken.

    PostgreSQL begins one with the session's first statement. Python's sqlite3 driver begins one
    only before a write, and SQLite takes a SAVEPOINT outside a transaction as a BEGIN and its
    RELEASE as a COMMIT: each savepoint would commit on its own (a disk flush apiece, and no
    longer part of the request's one commit). So on SQLite, BEGIN now if nothing has yet.
    """
    session = session if session is not None else db.session
    if is_postgresql(session):
        return
    driver = session.connection().connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN")


@contextmanager
def savepoint(session=None):
    """`session.begin_nested()` that nests in the session's transaction on SQLite too
    (`begin_for_savepoints`): a refusal rolls back only what the block did, and what it did
    stays part of the transaction, committed or rolled back with the rest.

    Every savepoint of the product goes through here: a bare `begin_nested()` taken on SQLite
    before any write would commit its block on its own when released."""
    session = session if session is not None else db.session
    begin_for_savepoints(session)
    with session.begin_nested() as nested:
        yield nested
