"""The call-log benchmark at a tiny scale: it builds its database, runs every search kind
through the real search code, verifies the chain it loaded, and reports its table."""

import pytest
from sqlalchemy.engine import make_url

from bench.scenarios import calllog
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the benchmark runs on PostgreSQL only")


def test_calllog_benchmark_measures_every_search_and_verifies_the_chain(tmp_path):
    admin_url = make_url(TEST_DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
    output = tmp_path / "bench-calllog.txt"
    rows = calllog.run(["--quick", "--events", "3000", "--records", "600", "--searches", "12",
                        "--admin-url", admin_url, "--db-name", smoke_db_name("calllog"),
                        "--output", str(output)])
    table = {row.measure.split(" (")[0]: row for row in rows}
    for kind in calllog.KINDS:
        assert table[f"search {kind}: p50"].value.endswith(" ms"), kind
        assert table[f"search {kind}: p99"].passed is not None, kind
    assert table["calllog verify: chain intact"].passed  # the loaded chain is a real one
    assert table["calllog verify: throughput"].value.endswith("events/s")
    text = output.read_text()
    assert "search call SID: p99" in text and "targets met" in text
