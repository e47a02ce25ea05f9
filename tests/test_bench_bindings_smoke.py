"""The bindings benchmark at a tiny scale: it builds its database, serves the app under
gunicorn, loads the trivial endpoint and `POST /api/v1/bindings` with a client key, checks
what was written and reports its table. On PostgreSQL when `TEST_DATABASE_URL` is set, else
on SQLite files in a temporary directory. The figures are not judged, only that each was taken."""

from pathlib import Path

from sqlalchemy.engine import make_url

from bench.scenarios import bindings
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name


def test_bindings_benchmark_measures_bindings_per_second_beside_the_trivial_endpoint(tmp_path: Path):
    admin_url = (make_url(TEST_DATABASE_URL).render_as_string(hide_password=False) if TEST_DATABASE_URL
                 else f"sqlite:///{tmp_path / 'admin.sqlite3'}")
    output = tmp_path / "bench-bindings.txt"
    settings = bindings.Settings(merchants=20, proxies=40, concurrency=2, client_processes=1, warmup=0.3,
                                 duration=1.0, max_requests=400, admin_url=admin_url,
                                 db_name=smoke_db_name("bindings"), output=output, log_dir=tmp_path)
    header, rows = bindings.run(settings, log=lambda message: None)
    table = {row.measure: row for row in rows}
    assert float(table["bindings: POST /api/v1/bindings bindings/s"].value.replace(",", "")) > 0
    assert float(table["trivial (GET /api/v1/integration/whoami): requests/s"].value.replace(",", "")) > 0
    assert table["bindings / trivial requests/s (same run)"].value not in ("", "n/a")
    for measure in ("bindings: wrong answers or errors", "trivial: wrong answers or errors",
                    "bindings written (active) / answered in the measured window",
                    "bindings: masking violations / counters off"):
        assert table[measure].passed, (measure, table[measure].value)
    assert "PostgreSQL" in header[0] if TEST_DATABASE_URL else "SQLite" in header[0]
    assert "bindings/s" in output.read_text()
