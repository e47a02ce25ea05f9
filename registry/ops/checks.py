"""The readiness checks: each returns a small dict with `ok`, and never raises.

Each dependency gets `CHECK_TIMEOUT` seconds: the check runs in a thread of its own and is given
up on after that (a hung connection attempt then finishes, or not, on its own), so /readyz
answers within a few seconds whatever the database or Redis is doing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import text

CHECK_TIMEOUT = 2.0
VERSIONS = text("SELECT version_num FROM alembic_version")


class CheckTimeout(RuntimeError):
    pass


def within(seconds: float, work: Callable[[], object]) -> object:
    """`work()`'s result, or `CheckTimeout` after `seconds`; its exception if it raised."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except Exception as exc:  # reported by the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="readiness-check", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CheckTimeout(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _timed(work: Callable[[], dict], timeout: float) -> dict:
    started = time.perf_counter()
    try:
        result = within(timeout, work) or {}
        result = {"ok": True, **result}
    except Exception as exc:
        result = {"ok": False, "error": _describe(exc)}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _describe(exc: Exception) -> str:
    # The class and the first line only: a driver's message may name hosts, never numbers.
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def database_and_migrations(engine, heads: tuple[str, ...],
                            timeout: float = CHECK_TIMEOUT) -> dict[str, dict]:
    """The database answers, and its schema is at the migrations' head."""
    versions: dict = {}

    def query() -> dict:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                versions["current"] = sorted(connection.scalars(VERSIONS))
            except Exception as exc:
                versions["error"] = _describe(exc)
            connection.rollback()
        return {}

    database = _timed(query, timeout)
    if not database["ok"]:
        return {"database": database, "migrations": {"ok": False, "error": "database unreachable"}}
    current = versions.get("current", [])
    migrations = {"ok": current == sorted(heads), "current": current, "head": sorted(heads)}
    if "error" in versions:
        migrations["error"] = "no alembic_version table: run `flask --app wsgi db upgrade`"
    return {"database": database, "migrations": migrations}


def redis(app: Flask, timeout: float = CHECK_TIMEOUT) -> dict:
    """Redis answers PING, when the rate limits are kept there."""
    uri = app.config.get("RATELIMIT_STORAGE_URI", "")
    if not uri.startswith(("redis://", "rediss://")):
        return {"ok": True, "skipped": "the rate limits are not kept in Redis"}
    client = app.extensions.get("readiness_redis")
    if client is None:
        import redis as redis_client

        client = redis_client.Redis.from_url(uri, socket_timeout=timeout, socket_connect_timeout=timeout)
        app.extensions["readiness_redis"] = client
    return _timed(lambda: {} if client.ping() else {"error": "no PONG"}, timeout)


def migration_heads(app: Flask) -> tuple[str, ...]:
    """The head revisions of `migrations/` (read once per process)."""
    heads = app.extensions.get("migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        heads = tuple(ScriptDirectory(app.extensions["migrate"].directory).get_heads())
        app.extensions["migration_heads"] = heads
    return heads
