"""Inbound calls to proxy numbers, played end to end by the Twilio simulator."""

import pytest

from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.verification import verify
from registry.masking.pool import sync_with_provider
from registry.telephony import get_gateway
from tests.factories import make_binding, make_proxy

PROXY, MERCHANT, SHOPPER, STRANGER = "+8613900000001", "+8613800138000", "+8613700137000", "+8613600136000"


@pytest.fixture
def wired(app, db, live_server, fast_calls):
    """A proxy number on the simulated account, its webhooks pointed at the live app."""
    fast_calls.add_incoming_number(PROXY)
    make_proxy(PROXY)
    sync_with_provider(get_gateway(), live_server)
    db.session.commit()
    return fast_calls


def test_shopper_calls_the_proxy_and_the_merchant_sees_only_the_proxy(wired, db):
    make_binding(MERCHANT, SHOPPER)
    wired.script(MERCHANT, outcome="answer", answer_after=1, hangup_after=5)
    parent = wired.start_inbound_call(SHOPPER, PROXY)
    call = wired.wait_for_call(parent, timeout=10)
    wired.wait_idle(timeout=10)
    [child] = [wired.call(sid) for sid in call.children]
    assert child.to == MERCHANT
    assert child.from_ == PROXY  # the merchant's phone shows the proxy, never the shopper
    assert child.status == "completed" and child.duration == 5
    assert any("录音" in text for text in call.heard)  # the notice (RECORD_CALLS), in Chinese for +86
    assert any("录音" in text for text in child.heard)  # the merchant hears it too, before the bridge
    db.session.expire_all()
    leg = db.session.query(CallRecord).filter_by(call_sid=child.sid).one()
    assert (leg.status, leg.duration_seconds, leg.kind) == ("completed", 5, "relay")
    assert leg.to_masked == "+86 138****8000" and leg.parent_call_sid == parent
    kinds = [e.kind for e in db.session.query(CallEvent).order_by(CallEvent.id)]
    assert kinds[0] == "routing" and "status" in kinds and "dial" in kinds
    assert verify().ok


def test_a_stranger_hears_a_message_and_is_logged_as_intercepted(wired, db):
    make_binding(MERCHANT, SHOPPER)
    parent = wired.start_inbound_call(STRANGER, PROXY)
    call = wired.wait_for_call(parent, timeout=10)
    assert not call.children and any("无法" in t for t in call.heard)
    db.session.expire_all()
    assert db.session.query(CallRecord).filter_by(call_sid=parent).one().kind == "intercepted"


def test_merchant_busy_is_logged_on_the_leg(wired, db):
    make_binding(MERCHANT, SHOPPER)
    wired.script(MERCHANT, outcome="busy")
    parent = wired.start_inbound_call(SHOPPER, PROXY)
    wired.wait_for_call(parent, timeout=10)
    wired.wait_idle(timeout=10)
    db.session.expire_all()
    legs = db.session.query(CallRecord).filter_by(parent_call_sid=parent).all()
    assert [leg.status for leg in legs] == ["busy"]
