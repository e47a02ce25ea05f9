"""The import benchmark at a tiny scale: a few rows through the endpoint on SQLite (and on
PostgreSQL when the tests have it), every row created, then unchanged, and rows/s reported."""

from sqlalchemy.engine import make_url

from bench.scenarios import imports
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name


def test_import_benchmark_reports_rows_per_second(tmp_path):
    output = tmp_path / "bench-imports.txt"
    args = ["--rows", "40", "--single", "3", "--output", str(output), "--db-name", smoke_db_name("imports")]
    if TEST_DATABASE_URL:
        admin_url = make_url(TEST_DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
        args += ["--admin-url", admin_url]
    else:
        args += ["--backend", "sqlite"]
    rows = imports.run(args)
    checked = [row for row in rows if row.passed is not None]
    assert checked and all(row.passed for row in checked), [row for row in checked if not row.passed]
    assert any(row.measure.startswith("sqlite: apply") and row.value.endswith("rows/s") for row in rows)
    text = output.read_text()
    assert "one row a request" in text and "targets met" in text
    if TEST_DATABASE_URL:
        assert "postgresql: apply" in text
