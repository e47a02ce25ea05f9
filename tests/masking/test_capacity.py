"""The pool's figures per country, the low watermark, the `pool.low` hook and the auto-buy job."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.core.timeutil import utcnow
from registry.masking import capacity, pool
from registry.masking.models import Binding, PoolLowCountry, ProxyNumber
from registry.telephony import get_gateway
from registry.webhooks.models import WebhookEvent
from registry.webhooks.operations import create_endpoint
from tests.factories import make_binding, make_client, make_proxy
from tests.pool_support import restore_simulator_numbers  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("restore_simulator_numbers")


def config(app, **overrides) -> dict:
    return {**app.config, "PROXY_NUMBER_CAP": 4, "POOL_LOW_WATERMARK": 10, **overrides}


def test_figures_per_country(db):
    make_proxy("+8613900000001")
    make_proxy("+8613900000002", cap=2)
    pool.drain(make_proxy("+8613900000003"))
    make_proxy("+14155550100")
    make_proxy("+8613900000099", shared=True)
    db.session.commit()
    make_binding("+8613800138000", "+8613700137000", country="CN")
    [cn, us] = capacity.by_country(default_cap=4, watermark=10)
    assert (cn.country, cn.numbers, cn.draining, cn.capacity, cn.used, cn.free) == ("CN", 2, 1, 6, 1, 5)
    assert (us.country, us.capacity, us.free, us.low) == ("US", 4, 4, False)


def test_extension_fallbacks_of_the_last_day_are_counted(db):
    make_proxy("+8613900000001", cap=1)
    make_proxy("+8613900000099", shared=True)
    make_binding("+8613800138000", "+8613700137000")
    fallback = make_binding("+8613800138111", "+8613700137001")
    old = make_binding("+8613800138222", "+8613700137002")
    assert fallback.extension and old.extension
    db.session.execute(sa.update(Binding).where(Binding.id == old.id)
                       .values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    [cn] = capacity.by_country(default_cap=4, watermark=10)
    assert cn.fallbacks_24h == 1
    assert cn.low  # its only direct number is full


def test_low_under_the_watermark(db):
    make_proxy("+8613900000001", cap=10)
    for n in range(9):
        make_binding(f"+86138001380{n:02d}", f"+86137001370{n:02d}")
    assert capacity.pool_low_countries(default_cap=4, watermark=10) == []  # 1 of 10 free: not under
    make_binding("+8613800138099", "+8613700137099")
    assert [c.country for c in capacity.pool_low_countries(default_cap=4, watermark=10)] == ["CN"]
    assert capacity.pool_low_countries(default_cap=4, watermark=0) == []


def test_pool_low_is_emitted_once_while_a_country_stays_low(app, db, monkeypatch):
    heard = []
    monkeypatch.setattr(capacity, "emit", lambda event, data: heard.append((event, data)))
    pool.drain(make_proxy("+8613900000001"))
    db.session.commit()
    assert capacity.check_pool(get_gateway(), config(app))["announced"] == ["CN"]
    assert capacity.check_pool(get_gateway(), config(app))["announced"] == []
    assert [(event, e["country"], e["free"], e["capacity"], e["watermark"]) for event, e in heard] == [
        ("pool.low", "CN", 0, 0, 10)]


def _tick(app, database_url: str, simulator) -> str:
    """What `scheduler tick --force` says of the pool check, run as a process of its own."""
    env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_API_URL": simulator.url,
           "SECRET_KEY": "s" * 40, "DATA_KEY": app.config["DATA_KEY"], "REGISTRY_ENV": "development",
           "PROXY_NUMBER_CAP": "4", "POOL_LOW_WATERMARK": "10"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "tick", "--force"],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("check-pool: ")]
    return line


def test_pool_low_is_announced_once_whichever_scheduler_checks(app, db, database_url, simulator):
    """The countries announced are in the database, not in a scheduler's memory: a second
    scheduler process taking the next check does not announce a country still low; once it
    recovered, running low again is announced again."""
    receiver, _key = make_client(scopes=("webhooks",))
    create_endpoint(receiver.id, "http://127.0.0.1:9/nothing-listens", ["pool.low"], None, app.config)
    proxy = make_proxy("+8613900000001", cap=1)
    make_binding("+8613800138000", "+8613700137000")
    db.session.commit()
    assert "'announced': ['CN']" in _tick(app, database_url, simulator)
    assert "'low': ['CN'], 'announced': []" in _tick(app, database_url, simulator)
    assert db.session.scalars(sa.select(PoolLowCountry.country)).all() == ["CN"]
    proxy.cap = 10  # room again: recovered, the row goes
    db.session.commit()
    assert capacity.check_pool(get_gateway(), config(app)) == {"low": [], "announced": [], "bought": []}
    db.session.commit()
    assert db.session.scalars(sa.select(PoolLowCountry.country)).all() == []
    proxy.cap = 1
    db.session.commit()
    assert "'announced': ['CN']" in _tick(app, database_url, simulator)
    events = db.session.scalars(sa.select(sa.func.count()).select_from(WebhookEvent)
                                .where(WebhookEvent.type == "pool.low")).one()
    assert events == 2


def test_no_auto_buy_unless_configured(app, db, simulator):
    pool.drain(make_proxy("+8613900000001"))
    db.session.commit()
    result = capacity.check_pool(get_gateway(), config(app, POOL_AUTO_BUY_MAX=0))
    assert result["low"] == ["CN"] and result["bought"] == []


def test_auto_buy_buys_up_to_the_daily_maximum_and_says_why(app, db, simulator, caplog):
    make_proxy("+14155550100", cap=4)
    for n in range(4):
        make_binding(f"+86138001380{n:02d}", f"+86137001370{n:02d}")
    caplog.set_level(logging.INFO, logger="registry.masking.capacity")
    result = capacity.check_pool(get_gateway(), config(app, POOL_AUTO_BUY_MAX=1))
    db.session.commit()
    assert result["low"] == ["US"] and len(result["bought"]) == 1
    [bought] = result["bought"]
    assert simulator.state.find_number(bought).voice_url.endswith("/webhooks/twilio/voice/incoming")
    row = db.session.scalar(sa.select(ProxyNumber).where(ProxyNumber.e164 == bought))
    assert (row.origin, row.status, row.country) == ("auto", "active", "US")
    assert f"bought {bought} because US was low" in caplog.text
    # Still low (a number was full and one more came), but the day's budget is spent.
    make_binding("+8613800138100", "+8613700137100")
    make_binding("+8613800138101", "+8613700137101")
    make_binding("+8613800138102", "+8613700137102")
    make_binding("+8613800138103", "+8613700137103")
    again = capacity.check_pool(get_gateway(), config(app, POOL_AUTO_BUY_MAX=1))
    assert again["low"] == ["US"] and again["bought"] == []
    assert "were bought in the last 24 h" in caplog.text


def test_numbers_wanted_bring_the_country_over_the_watermark():
    country = capacity.CountryCapacity("CN", 10, 0, 100, 100, 0, 20)
    # Each new number of cap 10 adds 10 free: 3 bring 30 free of 130 (23 %).
    assert capacity.numbers_wanted(country, 10) == 3
    assert capacity.numbers_wanted(capacity.CountryCapacity("CN", 0, 1, 0, 0, 0, 10), 10) == 1
