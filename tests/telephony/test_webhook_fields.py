"""Signed webhooks whose fields do not have Twilio's documented shapes: 400, logged, nothing stored.

Every request here is signed as Twilio signs it, so only the field check can refuse it.
"""

import logging

import pytest

from registry.callbacks.models import CallbackAttempt
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.models import CallEvent, CallRecord
from registry.core.timeutil import utcnow
from tests.factories import make_binding, make_callable_merchant, make_proxy, make_shopper, signed_post

PROXY, MERCHANT, SHOPPER = "+8613900000001", "+8613800138000", "+8613700137000"
SID = "CA" + "1" * 32
INCOMING = "/webhooks/twilio/voice/incoming"


@pytest.fixture
def binding(db):
    make_proxy(PROXY)
    return make_binding(MERCHANT, SHOPPER)


@pytest.fixture
def attempt(app, db):
    make_proxy(PROXY)
    store = make_callable_merchant(MERCHANT)
    request = request_callback(make_shopper(SHOPPER), store.id, "asap", None, None,
                               CallbackPolicy.from_config(app.config))
    request.status, request.binding_id = "calling", make_binding(MERCHANT, SHOPPER, merchant_id=store.id).id
    attempt = CallbackAttempt(request=request, seq=1, state="placed", proxy_number=PROXY, placed_at=utcnow())
    db.session.add(attempt)
    db.session.commit()
    return attempt


def stored(db) -> int:
    db.session.expire_all()
    return db.session.query(CallRecord).count() + db.session.query(CallEvent).count()


def refused(response, caplog, field: str, *secrets: str) -> None:
    """A short plain-text 400 naming the field, and a warning naming it, never the value."""
    assert response.status_code == 400, response.data
    assert response.mimetype == "text/plain" and field in response.text and len(response.text) < 200
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(field in line for line in lines), lines
    for secret in secrets:
        assert all(secret not in line for line in lines) and secret not in response.text


CALL = {"CallSid": SID, "From": SHOPPER, "To": PROXY, "AccountSid": "AC" + "5" * 32,
        "CallStatus": "ringing", "Direction": "inbound"}


@pytest.mark.parametrize(("field", "value"), [
    ("CallSid", "CA" + "1" * 4998),
    ("CallSid", "CA" + "1" * 31 + "\x00"),
    ("CallSid", "XY" + "1" * 32),
    ("CallSid", "CA" + "g" * 32),
    ("AccountSid", "AC" + "6" * 32),  # well-formed, but another account's
    ("AccountSid", "AC123"),
    ("From", "+86138\x0000138000"),
    ("From", "+86abc"),
    ("From", "+" + "8" * 5000),
    ("To", "+8613900000001; DROP"),
    ("Caller", "+86 138 0013 8000"),
    ("Called", "x" * 300),
    ("CallStatus", "ringing\x00"),
    ("CallStatus", "sleeping"),
    ("Direction", "sideways"),
])
def test_an_incoming_call_with_an_odd_field_is_refused(client, binding, db, caplog, field, value):
    response = signed_post(client, INCOMING, {**CALL, field: value})
    secrets = [value] if field in {"From", "To", "Caller", "Called"} else []
    refused(response, caplog, field, *secrets)
    assert stored(db) == 0


@pytest.mark.parametrize("frm", ["anonymous", "Anonymous", "RESTRICTED", "Unknown", "+266696687",
                                 "+86282452253", "+7378742833", "+2562533", "client:alice", ""])
def test_withheld_or_client_callers_are_intercepted_not_refused(client, binding, db, frm):
    response = signed_post(client, INCOMING, {**CALL, "From": frm, "Caller": frm})
    assert response.status_code == 200 and b"<Dial" not in response.data and b"<Hangup" in response.data
    assert db.session.query(CallRecord).one().kind == "intercepted"


@pytest.mark.parametrize("digits", ["12a4", "1" * 65, "12\x0034"])
def test_extension_digits_of_another_shape_are_refused(client, db, caplog, digits):
    make_proxy(PROXY, shared=True)
    response = signed_post(client, "/webhooks/twilio/voice/extension", {**CALL, "Digits": digits})
    refused(response, caplog, "Digits")
    assert stored(db) == 0


def test_star_and_hash_are_digits_a_caller_may_type(client, db):
    make_proxy(PROXY, shared=True)
    response = signed_post(client, "/webhooks/twilio/voice/extension", {**CALL, "Digits": "12#*"})
    assert response.status_code == 200 and b"<Dial" not in response.data


STATUS = {"CallSid": "CA" + "3" * 32, "CallStatus": "completed", "SequenceNumber": "3",
          "ParentCallSid": SID, "From": PROXY, "To": MERCHANT, "Direction": "outbound-dial",
          "CallDuration": "42", "Timestamp": "Mon, 16 Aug 2010 03:45:01 +0000"}


@pytest.mark.parametrize(("query", "field"), [
    ("binding=abc", "binding"),
    ("binding=99999999999999999999", "binding"),
    ("binding=-1", "binding"),
    ("binding=1%00", "binding"),
])
def test_a_status_callback_with_a_malformed_binding_is_refused(client, binding, db, caplog, query, field):
    response = signed_post(client, f"/webhooks/twilio/voice/status?{query}", STATUS)
    refused(response, caplog, field)
    assert stored(db) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("ParentCallSid", "CA123"),
    ("CallDuration", "4x2"),
    ("CallDuration", "9" * 40),
    ("SequenceNumber", "three"),
    ("CallStatus", "answered!"),
    ("Timestamp", "now\x00"),
])
def test_a_status_callback_with_an_odd_field_is_refused(client, binding, db, caplog, field, value):
    response = signed_post(client, f"/webhooks/twilio/voice/status?binding={binding.id}",
                           {**STATUS, field: value})
    refused(response, caplog, field)
    assert stored(db) == 0


def test_a_well_formed_status_callback_is_still_recorded(client, binding, db):
    response = signed_post(client, f"/webhooks/twilio/voice/status?binding={binding.id}", STATUS)
    assert response.status_code == 204 and stored(db) > 0


RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "5" * 32 + "/Recordings/RE" + "7" * 32


@pytest.mark.parametrize(("field", "value"), [
    ("RecordingUrl", "https://evil.example/2010-04-01/Recordings/RE" + "7" * 32),
    ("RecordingUrl", RECORDING.replace("https:", "http:")),
    ("RecordingUrl", "https://api.twilio.com.evil.example/Recordings/RE" + "7" * 32),
    ("RecordingUrl", "javascript:alert(1)"),
    ("RecordingSid", "RE" + "7" * 31),
    ("DialCallSid", "CA" + "3" * 300),
    ("DialCallStatus", "exploded"),
    ("DialCallDuration", "3.5"),
    ("RecordingDuration", "long"),
])
def test_a_dial_result_with_an_odd_field_is_refused(client, binding, db, caplog, field, value):
    params = {"CallSid": SID, "DialCallSid": "CA" + "3" * 32, "DialCallStatus": "completed",
              "DialCallDuration": "3", "RecordingUrl": RECORDING, "RecordingSid": "RE" + "7" * 32,
              field: value}
    response = signed_post(client, "/webhooks/twilio/voice/dial-action", params)
    refused(response, caplog, field)
    assert stored(db) == 0


def test_a_recording_on_twilio_or_the_configured_api_host_is_accepted(client, app, binding, db):
    params = {"CallSid": SID, "DialCallSid": "CA" + "3" * 32, "DialCallStatus": "completed",
              "DialCallDuration": "3", "RecordingSid": "RE" + "7" * 32}
    simulated = app.config["TWILIO_API_URL"].rstrip("/") + "/api/2010-04-01/Recordings/RE" + "7" * 32
    for url in (RECORDING, simulated):
        response = signed_post(client, "/webhooks/twilio/voice/dial-action", {**params, "RecordingUrl": url})
        assert response.status_code == 200


TEXT = {"MessageSid": "SM" + "1" * 32, "From": SHOPPER, "To": PROXY, "Body": "hello"}


@pytest.mark.parametrize(("field", "value"), [
    ("MessageSid", "SM" + "1" * 5000),
    ("MessageSid", "CA" + "1" * 32),
    ("SmsSid", "SM\x00"),
    ("Body", "x" * 1601),
    ("From", "+86137\x0000137000"),
])
def test_a_text_with_an_odd_field_is_refused(client, binding, db, simulator, caplog, field, value):
    simulator.state.add_incoming_number(PROXY)
    response = signed_post(client, "/webhooks/twilio/sms/incoming", {**TEXT, field: value})
    refused(response, caplog, field, *([value] if field == "From" else []))
    assert stored(db) == 0 and simulator.state.inbox(MERCHANT) == []


def test_a_texts_newlines_are_kept_and_other_control_characters_dropped(client, binding, db, simulator):
    simulator.state.add_incoming_number(PROXY)
    body = "Is the tea fresh?\r\nAnd\tthe cups?\x00\x07\x1b[2J" + "好" * 1500
    params = {**TEXT, "MessageSid": "MM" + "2" * 32, "Body": body}
    assert signed_post(client, "/webhooks/twilio/sms/incoming", params).status_code == 200
    [message] = simulator.state.inbox(MERCHANT)
    assert message.body == "Is the tea fresh?\r\nAnd\tthe cups?[2J" + "好" * 1500


@pytest.mark.parametrize(("path", "field"), [
    ("/webhooks/twilio/callback/answer?attempt=abc", "attempt"),
    ("/webhooks/twilio/callback/answer?attempt=1e3", "attempt"),
    ("/webhooks/twilio/callback/status?attempt={id}&leg=boss", "leg"),
    ("/webhooks/twilio/callback/dial-result?attempt=99999999999999999999", "attempt"),
    ("/webhooks/twilio/voice/notice?lang=fr", "lang"),
    ("/webhooks/twilio/voice/notice?lang=zh%00", "lang"),
])
def test_our_own_query_parameters_of_another_shape_are_refused(client, attempt, db, caplog, path, field):
    response = signed_post(client, path.format(id=attempt.id), {**STATUS, "CallStatus": "in-progress"})
    refused(response, caplog, field)
    assert stored(db) == 0


def test_the_merchants_key_press_of_another_shape_is_refused(client, attempt, db, caplog):
    response = signed_post(client, f"/webhooks/twilio/callback/choice?attempt={attempt.id}",
                           {"CallSid": SID, "Digits": "1; DROP TABLE"})
    refused(response, caplog, "Digits")
    db.session.expire_all()
    assert not db.session.get(CallbackAttempt, attempt.id).merchant_pressed_connect
