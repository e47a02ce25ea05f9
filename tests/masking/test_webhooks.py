"""Inbound calls and texts to proxy numbers, through signed webhooks."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.verification import verify
from registry.core.timeutil import utcnow
from tests.factories import make_binding, make_merchant, make_proxy, signed_post

PROXY, MERCHANT, SHOPPER, STRANGER = "+8613900000001", "+8613800138000", "+8613700137000", "+8613600136000"


def call(client, frm, to=PROXY, sid="CA" + "1" * 32, path="/webhooks/twilio/voice/incoming", **extra):
    params = {"CallSid": sid, "From": frm, "To": to, "AccountSid": "AC" + "5" * 32,
              "CallStatus": "ringing", "Direction": "inbound", **extra}
    return signed_post(client, path, params)


def twiml(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ET.fromstring(response.data)


@pytest.fixture
def binding(db):
    make_proxy(PROXY)
    return make_binding(MERCHANT, SHOPPER)


def test_shopper_calling_the_proxy_reaches_the_merchant_with_the_proxy_as_caller_id(client, binding, db):
    doc = twiml(call(client, SHOPPER))
    dial = doc.find("Dial")
    assert dial.get("callerId") == PROXY  # never the shopper's own number
    assert dial.find("Number").text == MERCHANT
    assert "binding=" in dial.find("Number").get("statusCallback")
    assert doc.find("Say") is not None  # the recording notice (RECORD_CALLS defaults on)
    record = db.session.query(CallRecord).one()
    assert (record.kind, record.direction, record.from_masked) == ("relay", "inbound", "+86 137****7000")
    event = db.session.query(CallEvent).one()
    assert event.data["decision"] == "connect" and "13800138000" not in str(event.data)


def test_merchant_calling_back_reaches_the_shopper(client, binding):
    dial = twiml(call(client, MERCHANT)).find("Dial")
    assert dial.find("Number").text == SHOPPER and dial.get("callerId") == PROXY


def test_a_call_after_the_app_sat_idle_is_routed(client, binding, db):
    """The first call after a quiet second: the pooled connection is pinged before use, and
    the ping must leave it fit for the routing's autocommit (it answered 500 on PostgreSQL)."""
    import time

    from registry.core.pool_ping import IDLE_SECONDS

    assert twiml(call(client, SHOPPER)).find("Dial") is not None
    time.sleep(IDLE_SECONDS + 0.1)
    assert twiml(call(client, SHOPPER, sid="CA" + "2" * 32)).find("Dial") is not None


# "+86abc" is no caller ID Twilio sends: refused with a 400 (tests/telephony/test_webhook_fields.py).
@pytest.mark.parametrize("frm", [STRANGER, "anonymous", "", "+266696687", "client:alice"])
def test_unknown_or_unreadable_callers_are_intercepted(client, binding, db, frm):
    doc = twiml(call(client, frm))
    assert doc.find("Dial") is None and doc.find("Hangup") is not None
    assert "cannot connect" in doc.find("Say").text or "无法" in doc.find("Say").text
    assert db.session.query(CallRecord).one().kind == "intercepted"
    assert db.session.query(CallEvent).one().data["decision"] == "refuse"


def test_missing_from_is_intercepted_not_a_500(client, binding, db):
    params = {"CallSid": "CA" + "2" * 32, "To": PROXY}
    doc = twiml(signed_post(client, "/webhooks/twilio/voice/incoming", params))
    assert doc.find("Hangup") is not None


def test_ended_or_expired_binding_is_intercepted(client, binding, db):
    binding.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert twiml(call(client, SHOPPER)).find("Dial") is None


def test_suspended_merchant_is_intercepted(client, db):
    make_proxy(PROXY)
    store = make_merchant()
    make_binding(MERCHANT, SHOPPER, merchant_id=store.id)
    store.status = "suspended"
    db.session.commit()
    assert twiml(call(client, SHOPPER)).find("Dial") is None


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "forged"],
)
def test_bad_or_missing_signature_is_403_and_stores_nothing(client, binding, db, signature):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post("/webhooks/twilio/voice/incoming",
                           data={"CallSid": "CA" + "1" * 32, "From": SHOPPER, "To": PROXY}, headers=headers)
    assert response.status_code == 403
    assert db.session.query(CallRecord).count() == 0 and db.session.query(CallEvent).count() == 0


def test_signature_for_another_url_or_token_is_403(client, binding, db):
    params = {"CallSid": "CA" + "1" * 32, "From": SHOPPER, "To": PROXY}
    other_url = signed_post(client, "/webhooks/twilio/voice/incoming", params,
                            base="https://attacker.example")
    other_token = signed_post(client, "/webhooks/twilio/voice/incoming", params, token="x" * 32)
    assert other_url.status_code == 403 and other_token.status_code == 403
    assert db.session.query(CallRecord).count() == 0


def status(client, sid, call_status, seq, binding_id, **extra):
    params = {"CallSid": sid, "CallStatus": call_status, "SequenceNumber": str(seq),
              "ParentCallSid": "CA" + "1" * 32, "From": PROXY, "To": MERCHANT,
              "Direction": "outbound-dial", **extra}
    return signed_post(client, f"/webhooks/twilio/voice/status?binding={binding_id}", params)


def test_status_callbacks_are_idempotent_and_never_move_backwards(client, binding, db):
    child = "CA" + "3" * 32
    assert status(client, child, "ringing", 1, binding.id).status_code == 204
    assert status(client, child, "ringing", 1, binding.id).status_code == 204  # Twilio retried
    status(client, child, "completed", 3, binding.id, CallDuration="42")
    status(client, child, "in-progress", 2, binding.id)  # arrived late
    record = db.session.query(CallRecord).filter_by(call_sid=child).one()
    assert (record.status, record.duration_seconds) == ("completed", 42)
    assert record.to_masked == "+86 138****8000" and record.binding_id == binding.id
    statuses = [e.data["status"] for e in db.session.query(CallEvent).order_by(CallEvent.id)]
    assert statuses == ["ringing", "completed", "in-progress"]  # every delivery logged once
    assert verify().ok


def test_completed_before_ringing_keeps_the_final_state(client, binding, db):
    child = "CA" + "4" * 32
    status(client, child, "completed", 3, binding.id, CallDuration="5")
    status(client, child, "ringing", 1, binding.id)
    assert db.session.query(CallRecord).filter_by(call_sid=child).one().status == "completed"


def test_shared_number_asks_for_the_extension_then_connects(client, db):
    make_proxy(PROXY)
    make_proxy("+8613900000099", shared=True)
    make_binding(MERCHANT, SHOPPER)
    overflow = make_binding(MERCHANT, STRANGER)
    gather = twiml(call(client, STRANGER, to="+8613900000099")).find("Gather")
    assert gather.get("numDigits") == "4"
    doc = twiml(call(client, STRANGER, to="+8613900000099", path="/webhooks/twilio/voice/extension",
                     Digits=overflow.extension, sid="CA" + "5" * 32))
    assert doc.find("Dial/Number").text == MERCHANT
    assert doc.find("Dial").get("callerId") == "+8613900000099"
    wrong = "0000" if overflow.extension != "0000" else "1111"
    refused = twiml(call(client, STRANGER, to="+8613900000099", path="/webhooks/twilio/voice/extension",
                         Digits=wrong, sid="CA" + "6" * 32))
    assert refused.find("Dial") is None


def test_inbound_text_is_relayed_from_the_proxy_and_logged_without_its_body(client, binding, db, simulator):
    simulator.state.add_incoming_number(PROXY)
    params = {"MessageSid": "SM" + "1" * 32, "From": SHOPPER, "To": PROXY, "Body": "Is the tea fresh?"}
    assert signed_post(client, "/webhooks/twilio/sms/incoming", params).status_code == 200
    assert signed_post(client, "/webhooks/twilio/sms/incoming", params).status_code == 200  # retry
    inbox = simulator.state.inbox(MERCHANT)
    assert [(m.from_, m.body) for m in inbox] == [(PROXY, "Is the tea fresh?")]
    event = db.session.query(CallEvent).one()
    assert event.data["decision"] == "relay" and "fresh" not in str(event.data)


def test_text_from_a_stranger_is_not_relayed(client, binding, db, simulator):
    simulator.state.add_incoming_number(PROXY)
    params = {"MessageSid": "SM" + "2" * 32, "From": STRANGER, "To": PROXY, "Body": "hello"}
    signed_post(client, "/webhooks/twilio/sms/incoming", params)
    assert simulator.state.inbox(MERCHANT) == [] and simulator.state.inbox(SHOPPER) == []
    assert db.session.query(CallEvent).one().data["decision"] == "intercepted"


def test_a_call_extends_the_binding(client, binding, db):
    from registry.core.timeutil import as_utc
    from registry.masking.models import Binding

    binding.expires_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    call(client, SHOPPER)
    db.session.expire_all()
    assert as_utc(db.session.get(Binding, binding.id).expires_at) > utcnow() + timedelta(hours=71)


def test_a_retried_delivery_is_logged_once(client, binding, db):
    first, again = call(client, SHOPPER), call(client, SHOPPER)
    assert first.data == again.data  # Twilio hears the same answer
    assert db.session.query(CallRecord).count() == 1
    assert [e.kind for e in db.session.query(CallEvent)] == ["routing"]


def test_the_extension_typed_later_completes_the_calls_record(client, db):
    make_proxy("+8613900000099", shared=True)
    overflow = make_binding(MERCHANT, STRANGER)
    sid, wrong_sid = "CA" + "7" * 32, "CA" + "8" * 32
    for call_sid in (sid, wrong_sid):
        call(client, STRANGER, to="+8613900000099", sid=call_sid)
    record = db.session.query(CallRecord).filter_by(call_sid=sid).one()
    assert (record.kind, record.binding_id) == ("relay", None)  # asked for the extension
    path = "/webhooks/twilio/voice/extension"
    for _ in range(2):  # the second is Twilio retrying
        answer = call(client, STRANGER, to="+8613900000099", path=path, Digits=overflow.extension, sid=sid)
        assert twiml(answer).find("Dial/Number").text == MERCHANT
    wrong = "0000" if overflow.extension != "0000" else "1111"
    call(client, STRANGER, to="+8613900000099", path=path, Digits=wrong, sid=wrong_sid)
    db.session.expire_all()
    record = db.session.query(CallRecord).filter_by(call_sid=sid).one()
    assert (record.kind, record.binding_id) == ("relay", overflow.id)
    assert record.merchant_id == overflow.merchant_id
    assert db.session.query(CallRecord).filter_by(call_sid=wrong_sid).one().kind == "intercepted"
    decisions = [e.data["decision"] for e in db.session.query(CallEvent).filter_by(call_sid=sid)
                 .order_by(CallEvent.id)]
    assert decisions == ["ask_extension", "connect"]
