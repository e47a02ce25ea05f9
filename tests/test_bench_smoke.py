"""The masked-number benchmark at a tiny scale: every code path runs, the table is complete.

2,000 bindings, a second of load on each gunicorn, a few dozen concurrent
allocations and a small marketplace; on PostgreSQL when `TEST_DATABASE_URL`
is set (in databases of its own on that server, created and dropped), else
on SQLite files in a temporary directory. The figures are not judged here,
only that each was measured.
"""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import tables
from bench.scenarios import masked_numbers
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name

SMOKE_DB = smoke_db_name("masked")

MEASURES = [
    "setup: active bindings", "setup: counters equal active rows", "setup: time (s)",
    "routing: requests/s", "routing: p50 latency (ms)", "routing: p99 latency (ms)",
    "routing: wrong answers or errors", "trivial app: requests/s", "trivial app: p99 latency (ms)",
    "trivial app: wrong answers or errors", "routing / trivial requests/s",
    "trivial app: CPU ms/request: server / PostgreSQL / load",
    "routing: CPU ms/request: server / PostgreSQL / load", "routing / trivial CPU per request, all processes",
    "call log: hash chain after the load", "allocation: bindings/s (2 processes)",
    "allocation: allocated / asked", "allocation: errors / pool exhausted",
    "allocation: masking violations", "allocation: counters off",
    "allocation: CPU ms/binding: workers / PostgreSQL",
    "pool: bindings (busiest party's partners)", "pool (1 process): used / lower bound",
    "pool (2 processes): used / lower bound",
]


@pytest.fixture
def admin_url(tmp_path) -> str:
    if TEST_DATABASE_URL:
        return make_url(TEST_DATABASE_URL).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'admin.sqlite3'}"


def test_benchmark_measures_everything_at_a_tiny_scale(admin_url, tmp_path: Path):
    settings = masked_numbers.Settings.smoke(admin_url, tmp_path, SMOKE_DB)
    header, rows = masked_numbers.run(settings, log=lambda message: None)
    table = {row.measure: row for row in rows}
    assert [m for m in MEASURES if m not in table] == []
    assert table["setup: active bindings"].value == "2,040"
    assert table["setup: counters equal active rows"].passed
    for measure in ("routing: requests/s", "trivial app: requests/s", "routing / trivial requests/s",
                    "routing: p99 latency (ms)", "allocation: bindings/s (2 processes)"):
        assert table[measure].value not in ("", "n/a", "0"), measure
    assert table["trivial app: wrong answers or errors"].value == "0"
    server, postgres, load = (float(part) for part in
                              table["routing: CPU ms/request: server / PostgreSQL / load"].value.split(" / "))
    assert server > 0 and load > 0
    assert table["routing / trivial CPU per request, all processes"].value.endswith(" x")
    assert table["call log: hash chain after the load"].passed
    assert table["allocation: allocated / asked"].value.endswith("/ 50")
    assert table["pool (1 process): used / lower bound"].passed
    if make_url(admin_url).get_backend_name() == "postgresql":
        # SQLite serialises writers (a busy worker may answer 500); PostgreSQL must not.
        for measure in ("routing: wrong answers or errors", "allocation: errors / pool exhausted",
                        "allocation: masking violations", "allocation: counters off"):
            assert table[measure].passed, measure
        assert table["allocation: allocated / asked"].value == "50 / 50"
        assert postgres > 0  # the backends serving the routing workers are found and counted
    rendered = tables.render(rows, header)
    assert "machine speed: a fixed Python loop took" in rendered
    assert "measure" in rendered and "PASS" in rendered
    # The benchmark dropped what it created.
    assert not list(tmp_path.glob(f"{SMOKE_DB}*.sqlite3"))
    if TEST_DATABASE_URL:
        engine = create_engine(admin_url)
        with engine.connect() as conn:
            left = conn.scalars(text(
                "SELECT datname FROM pg_database WHERE datname LIKE :name"), {"name": f"{SMOKE_DB}%"})
            assert list(left) == []
        engine.dispose()
