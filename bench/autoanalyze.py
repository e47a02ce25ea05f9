"""Standing in for autovacuum's ANALYZE on servers that run with `autovacuum = off`.

CI-tuned PostgreSQL servers (this one among them) often switch autovacuum
off. Without fresh statistics the allocation query's plan degenerates
(a nested-loop anti-join scanning a whole index per proxy number: about
0.5 s per allocation at only 2,000 bindings), which a production server
never sees because autovacuum re-analyzes a table once 50 + 10 % of its
rows changed. While allocations run, this checks the same threshold every
second and runs the ANALYZE autovacuum would have run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

TABLES = ("bindings", "proxy_numbers")
# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, PostgreSQL's defaults.
THRESHOLD, SCALE = 50, 0.1


class Keeper:
    def __init__(self, url: str, interval: float = 1.0):
        self.url, self.interval = url, interval
        self.analyzes = 0
        self.active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            self.active = (conn.dialect.name == "postgresql"
                           and conn.scalar(text("SHOW autovacuum")) == "off")
        if self.active:
            self._thread = threading.Thread(target=self._run, args=(engine,), daemon=True)
            self._thread.start()
        else:
            engine.dispose()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self, engine) -> None:
        try:
            with engine.connect() as conn:
                while not self._stop.wait(self.interval):
                    for table in TABLES:
                        changed, tuples = conn.execute(text(
                            "SELECT s.n_mod_since_analyze, greatest(c.reltuples, 0) "
                            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                            "WHERE s.relname = :t"), {"t": table}).one()
                        if changed > THRESHOLD + SCALE * tuples:
                            conn.execute(text(f"ANALYZE {table}"))
                            self.analyzes += 1
        except Exception as exc:  # reported; the measure goes on with stale statistics
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            engine.dispose()


@contextmanager
def keep_statistics(url: str) -> Iterator[Keeper]:
    keeper = Keeper(url)
    keeper.start()
    try:
        yield keeper
    finally:
        keeper.stop()
