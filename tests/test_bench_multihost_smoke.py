"""The multi-host routing benchmark at a tiny scale: one, then two gunicorn instances answer every
routed call correctly, and the table reports both and their ratio."""

import pytest
from sqlalchemy.engine import make_url

from bench.scenarios import multihost
from bench.scenarios.masked_numbers import Settings
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the benchmark runs on PostgreSQL only")


def test_multihost_benchmark_routes_through_one_and_two_instances(tmp_path):
    admin_url = make_url(TEST_DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
    settings = Settings.smoke(admin_url, tmp_path, db_name=smoke_db_name("multihost"))
    header, rows = multihost.run(settings, lambda message: None)
    table = {row.measure: row for row in rows}
    for name in ("1 web instance", "2 web instances"):
        assert table[f"routing, {name}: wrong answers or errors"].passed
        assert float(table[f"routing, {name}: requests/s"].value.replace(",", "")) > 0
    assert "2 instances / 1 instance" in " ".join(table)
    assert header[0].startswith("Multi-host routing benchmark")
