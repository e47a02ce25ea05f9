"""Checking a pooled database connection before use, when it has been idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout: one more round trip
for every request and every scheduler transaction (a tenth of a routing
webhook's time). A connection that was in use a moment ago is as alive as a
ping would show, so this pings only one idle for over `IDLE_SECONDS`,
which is what finds connections a database restart or an idle timeout
closed. A failed ping raises `DisconnectionError`: the pool discards the
connection and checks out a fresh one (SQLAlchemy's documented recipe for
custom pessimistic disconnect handling).

The ping is the dialect's own (`Dialect.do_ping`, what `pool_pre_ping` runs):
on psycopg it pings in autocommit, so it leaves no transaction open. A bare
`SELECT 1` would, and the routing webhook, which switches its connection to
autocommit, then failed with a 500 on the first call after an idle second.
"""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_SECONDS = 1.0
_IDLE_SINCE = "registry_idle_since"


def ping_idle_connections(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Make `engine`'s pool ping a connection idle over `idle_seconds` before handing it out."""

    @event.listens_for(engine.pool, "checkin")
    def _note_idle(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return  # fresh, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises for a dead connection
            raise exc.DisconnectionError() from error
