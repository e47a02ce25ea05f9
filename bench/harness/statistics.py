"""Standing in for autovacuum on servers that run with `autovacuum = off`.

CI-tuned PostgreSQL servers (this one among them) often switch autovacuum
off. Without fresh statistics, plans made on the nearly empty tables of a
benchmark's start degenerate (the allocation query's becomes a nested-loop
anti-join scanning a whole index per proxy number: about 0.5 s per
allocation at only 2,000 bindings), which a production server never sees.
While a measure runs, a thread checks autovacuum's default thresholds every
second and runs what autovacuum would have run: ANALYZE once 50 + 10 % of
a table's rows changed and, where asked, VACUUM ANALYZE once 50 + 20 % of
its rows are dead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

# autovacuum_{analyze,vacuum}_threshold and _scale_factor, PostgreSQL's defaults.
THRESHOLD, ANALYZE_SCALE, VACUUM_SCALE = 50, 0.1, 0.2


class Keeper:
    """After `start()`: `active` if it runs (autovacuum off), `runs` of ANALYZE/VACUUM so far."""

    def __init__(self, url: str, tables: tuple[str, ...], vacuum: bool = False, interval: float = 1.0):
        self.url, self.tables, self.vacuum, self.interval = url, tables, vacuum, interval
        self.runs = 0
        self.active = False
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            self.active = (conn.dialect.name == "postgresql"
                           and conn.scalar(text("SHOW autovacuum")) == "off")
        if self.active:
            self._thread = threading.Thread(target=self._run, args=(engine,), daemon=True,
                                            name="bench-autovacuum")
            self._thread.start()
        else:
            engine.dispose()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def note(self, during: str) -> str:
        """"N during X", with why it stopped if it did."""
        return f"{self.runs} during {during}" + (f" (stopped: {self.error})" if self.error else "")

    def _run(self, engine) -> None:
        try:
            with engine.connect() as conn:
                while not self._stop.wait(self.interval):
                    for table in self.tables:
                        self._check(conn, table)
        except Exception as exc:  # reported; the measure goes on with stale statistics
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            engine.dispose()

    def _check(self, conn, table: str) -> None:
        changed, dead, tuples = conn.execute(text(
            "SELECT s.n_mod_since_analyze, s.n_dead_tup, greatest(c.reltuples, 0) "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relname = :t"), {"t": table}).one()
        if self.vacuum and dead > THRESHOLD + VACUUM_SCALE * tuples:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
            self.runs += 1
        elif changed > THRESHOLD + ANALYZE_SCALE * tuples:
            conn.execute(text(f"ANALYZE {table}"))
            self.runs += 1


@contextmanager
def keep_statistics(url: str, tables: tuple[str, ...], vacuum: bool = False) -> Iterator[Keeper]:
    keeper = Keeper(url, tables, vacuum)
    keeper.start()
    try:
        yield keeper
    finally:
        keeper.stop()
