"""The callback-dispatch benchmark at a tiny scale: it runs end to end and reports its table.

Two real scheduler processes place 60 callbacks due over 4 seconds through
the simulator, on a throwaway PostgreSQL database of its own.
"""

import pytest
from sqlalchemy.engine import make_url

from bench.scenarios import dispatch
from tests.conftest import TEST_DATABASE_URL


def smoke_db_name(scenario: str) -> str:
    """A database name of the smoke tests' own, after the test database's, so that runs
    against other test databases on the same server never drop it."""
    test_db = make_url(TEST_DATABASE_URL).database if TEST_DATABASE_URL else "registry"
    return f"{test_db}_{scenario}_smoke"


pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the benchmark runs on PostgreSQL only")


def test_dispatch_benchmark_places_every_request_once(tmp_path):
    admin_url = make_url(TEST_DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
    rows = dispatch.run(["--requests", "60", "--spread", "4", "--time-limit", "15", "--admin-url", admin_url,
                         "--db-name", smoke_db_name("dispatch"), "--log-dir", str(tmp_path)])
    table = {row.measure: row for row in rows}
    latency = "dispatch: due_at -> Twilio request"
    for measure in (f"{latency} p50 (s)", f"{latency} p99 (s)", "dispatch: calls placed per second"):
        assert table[measure].value not in ("", "n/a"), measure
    assert table["dispatch: placed (Calls.json 201)"].value == "60"
    for measure in ("dispatch: duplicate Twilio requests", "dispatch: lost requests",
                    "dispatch: calls placed before due"):
        assert table[measure].value == "0" and table[measure].passed, measure
    assert table["dispatch: Twilio errors"].value == "0"
    assert "a fixed Python loop" in table["dispatch: machine"].value
