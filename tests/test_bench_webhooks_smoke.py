"""The webhooks benchmark at a tiny scale: two real scheduler processes deliver every event to a
local receiver once, and the table reports it."""

import pytest
from sqlalchemy.engine import make_url

from bench.scenarios import webhooks
from tests.conftest import TEST_DATABASE_URL
from tests.test_bench_dispatch_smoke import smoke_db_name

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the benchmark runs on PostgreSQL only")


def test_webhooks_benchmark_delivers_every_event_once(tmp_path):
    admin_url = make_url(TEST_DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
    rows = webhooks.run(["--events", "200", "--rate", "40", "--spread", "2", "--time-limit", "60",
                         "--admin-url", admin_url, "--db-name", smoke_db_name("webhooks"),
                         "--log-dir", str(tmp_path)])
    table = {row.measure: row for row in rows}
    assert table["webhooks: events emitted"].value == "280"
    assert table["webhooks: lost"].passed and table["webhooks: sent twice"].passed
    assert table["webhooks: event -> first attempt p99 (s)"].value != "n/a"
