"""`flask proxy add|sync|list|retire|stats`."""

from registry.masking.models import ProxyNumber
from tests.factories import make_binding


def test_add_list_retire(runner, db):
    added = runner.invoke(args=["proxy", "add", "+8613900000001", "+14155550100"])
    assert added.exit_code == 0, added.output
    assert "added +8613900000001 (CN)" in added.output
    listed = runner.invoke(args=["proxy", "list"])
    assert "+14155550100" in listed.output and "0/200" in listed.output
    retired = runner.invoke(args=["proxy", "retire", "+14155550100"])
    assert retired.exit_code == 0
    assert db.session.query(ProxyNumber).filter_by(e164="+14155550100").one().status == "draining"


def test_add_refuses_bad_numbers_and_stores_none(runner, db):
    result = runner.invoke(args=["proxy", "add", "+8613900000001", "13900000002"])
    assert result.exit_code != 0 and "E.164" in result.output
    result = runner.invoke(args=["proxy", "add", "+1 900 555 0100"])
    assert result.exit_code != 0 and "premium-rate" in result.output
    assert db.session.query(ProxyNumber).count() == 0


def test_sync_points_the_account_numbers_at_the_app(runner, db, simulator, app):
    sid = simulator.state.add_incoming_number("+8613900000001")
    result = runner.invoke(args=["proxy", "sync"])
    assert result.exit_code == 0, result.output
    number = next(n for n in simulator.state.incoming_numbers() if n.sid == sid)
    base = app.config["PUBLIC_BASE_URL"]
    assert number.voice_url == f"{base}/webhooks/twilio/voice/incoming"
    assert number.sms_url == f"{base}/webhooks/twilio/sms/incoming"
    assert db.session.query(ProxyNumber).one().provider_sid == sid


def test_stats_show_pool_pressure(runner, db):
    runner.invoke(args=["proxy", "add", "+8613900000001", "+8613900000002"])
    make_binding("+8613800138000", "+8613700137000")
    make_binding("+8613800138000", "+8613700137001")
    result = runner.invoke(args=["proxy", "stats"])
    assert "active bindings        2" in result.output
    assert "busiest party degree   2" in result.output
    assert "numbers needed         2" in result.output
