"""The callback webhooks, posted as Twilio posts them, next to the relay legs' own.

A relay leg and a callback leg report their status and recording the same
way, and are recorded the same way (`calllog.legs`); what a callback leg's
report means for its request follows from there.
"""

import pytest

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.recordings import local_path
from registry.calllog.verification import verify
from registry.core.timeutil import utcnow
from tests.callbacks.conftest import MERCHANT, PROXY, SHOPPER
from tests.calllog.test_recordings import copy, simulated_recording
from tests.factories import make_binding, make_callable_merchant, make_proxy, make_shopper, signed_post

LEG = "CA" + "3" * 32
# What a leg's record says whatever its kind (its kind, request and SIDs aside).
ALIKE = ("status", "direction", "proxy_number", "from_masked", "to_masked", "binding_id", "merchant_id",
         "duration_seconds", "recording_status")


@pytest.fixture
def recordings(app, tmp_path):
    app.config["RECORDINGS_DIR"] = str(tmp_path / "recordings")


@pytest.fixture
def attempt(app, db):
    """A callback's first attempt, placed to the merchant, nothing heard of it yet."""
    make_proxy(PROXY)
    store = make_callable_merchant(MERCHANT)
    request = request_callback(make_shopper(SHOPPER), store.id, "asap", "A-77", None,
                               CallbackPolicy.from_config(app.config))
    request.status, request.binding_id = "calling", make_binding(MERCHANT, SHOPPER, merchant_id=store.id).id
    attempt = CallbackAttempt(request=request, seq=1, state="placed", proxy_number=PROXY, placed_at=utcnow())
    db.session.add(attempt)
    db.session.commit()
    return attempt


def status_url(kind: str, attempt: CallbackAttempt, leg: str = "merchant") -> str:
    """Where Twilio posts a leg's status: a relay leg's names its binding, a callback leg's its attempt."""
    if kind == "relay":
        return f"/webhooks/twilio/voice/status?binding={attempt.request.binding_id}"
    return f"/webhooks/twilio/callback/status?attempt={attempt.id}&leg={leg}"


def dial_url(kind: str, attempt: CallbackAttempt) -> str:
    if kind == "relay":
        return "/webhooks/twilio/voice/dial-action"
    return f"/webhooks/twilio/callback/dial-result?attempt={attempt.id}"


def post_status(client, url: str, call_status: str, seq: int, sid: str = LEG, **extra):
    params = {"CallSid": sid, "CallStatus": call_status, "SequenceNumber": str(seq), "From": PROXY,
              "To": MERCHANT, "Direction": "outbound-dial", "ParentCallSid": "CA" + "1" * 32, **extra}
    response = signed_post(client, url, params)
    assert response.status_code == 204
    return response


def post_dial(client, url: str, dial_status: str, sid: str = LEG, **extra):
    params = {"CallSid": "CA" + "1" * 32, "DialCallSid": sid, "DialCallStatus": dial_status,
              "DialCallDuration": "3", **extra}
    response = signed_post(client, url, params)
    assert response.status_code == 200 and b"<Hangup" in response.data
    return response


def leg(db, sid: str = LEG) -> CallRecord:
    db.session.expire_all()
    return db.session.query(CallRecord).filter_by(call_sid=sid).one()


def statuses(db, sid: str = LEG) -> list[str]:
    events = db.session.query(CallEvent).filter_by(call_sid=sid, kind="status").order_by(CallEvent.id)
    return [event.data["status"] for event in events]


def reload(db, attempt: CallbackAttempt) -> tuple[CallbackAttempt, CallbackRequest]:
    db.session.expire_all()
    attempt = db.session.get(CallbackAttempt, attempt.id)
    return attempt, attempt.request


@pytest.mark.parametrize("kind", ["relay", "callback"])
def test_a_status_delivered_twice_is_stored_once(client, db, attempt, kind):
    url = status_url(kind, attempt)
    for call_status, seq in (("ringing", 1), ("ringing", 1), ("in-progress", 2), ("in-progress", 2)):
        post_status(client, url, call_status, seq)  # each second one is Twilio retrying
    record = leg(db)
    assert record.status == "in-progress" and record.answered_at is not None
    assert statuses(db) == ["ringing", "in-progress"]
    assert verify().ok


@pytest.mark.parametrize("kind", ["relay", "callback"])
def test_a_status_out_of_order_never_moves_a_leg_backwards(client, db, attempt, kind):
    url = status_url(kind, attempt)
    post_status(client, url, "completed", 3, CallDuration="42")
    ended_at = leg(db).ended_at
    post_status(client, url, "in-progress", 2)  # arrived late
    post_status(client, url, "ringing", 1)
    record = leg(db)
    assert (record.status, record.duration_seconds, record.ended_at) == ("completed", 42, ended_at)
    assert record.answered_at is None  # a late "answered" does not rewrite the leg
    assert statuses(db) == ["completed", "in-progress", "ringing"]  # every delivery logged, as it came


def test_a_relay_leg_and_a_callback_leg_are_recorded_alike(app, client, db, attempt, simulator, recordings):
    """The same reports about two legs, one of each kind, leave the same leg behind."""
    simulator.state.add_incoming_number(PROXY)
    sids = {"relay": LEG, "callback": "CA" + "4" * 32}
    for kind, sid in sids.items():
        url = status_url(kind, attempt, leg="shopper")
        for call_status, seq in (("ringing", 1), ("in-progress", 2), ("completed", 3)):
            post_status(client, url, call_status, seq, sid=sid, CallDuration="3")
        recording = simulated_recording(simulator, sid)
        for _ in range(2):  # Twilio retried the dial action
            post_dial(client, dial_url(kind, attempt), "completed", sid=sid,
                      RecordingUrl=recording.url, RecordingSid=recording.sid)
    relay, callback = leg(db, sids["relay"]), leg(db, sids["callback"])
    assert (relay.kind, callback.kind) == ("relay", "callback_shopper_leg")
    assert callback.callback_request_id == attempt.request_id and relay.callback_request_id is None
    assert [getattr(relay, f) for f in ALIKE] == [getattr(callback, f) for f in ALIKE]
    assert (relay.status, relay.duration_seconds, relay.recording_status) == ("completed", 3, None)
    assert all(record.recording_sid and record.recording_url for record in (relay, callback))
    assert db.session.query(CallEvent).filter_by(kind="dial").count() == 2  # one a dial action, not two

    assert copy(app, db) == {"stored": 2}
    relay, callback = leg(db, sids["relay"]), leg(db, sids["callback"])
    assert [getattr(relay, f) for f in ALIKE] == [getattr(callback, f) for f in ALIKE]
    assert relay.recording_status == "stored"
    assert local_path(relay).is_file() and local_path(callback).is_file()
    assert verify().ok


def test_a_final_merchant_status_drives_the_request_s_outcome_once(client, db, attempt):
    url = status_url("callback", attempt)
    post_status(client, url, "ringing", 1)
    for _ in range(2):  # Twilio retried the final status
        post_status(client, url, "busy", 2)
    attempt, request = reload(db, attempt)
    assert attempt.merchant_call_sid == LEG  # the webhook beat the scheduler's commit
    assert (attempt.state, attempt.outcome) == ("ended", "merchant_busy")
    assert request.status == "scheduled" and request.reason == "the store did not answer; trying again"
    assert leg(db).status == "busy" and statuses(db) == ["ringing", "busy"]


def test_the_shopper_answering_connects_the_request(client, db, attempt):
    post_status(client, status_url("callback", attempt, leg="shopper"), "in-progress", 2)
    attempt, request = reload(db, attempt)
    assert attempt.shopper_call_sid == LEG and request.status == "connected"
    assert leg(db).kind == "callback_shopper_leg"


def test_a_completed_bridge_completes_the_request(client, db, attempt):
    post_dial(client, dial_url("callback", attempt), "completed")
    attempt, request = reload(db, attempt)
    assert (attempt.outcome, request.status) == ("completed", "completed")


def test_a_shopper_missing_the_last_try_is_texted_once(client, db, attempt, simulator):
    simulator.state.add_incoming_number(PROXY)
    attempt.request.shopper_misses = 1  # missed once before: this was the retry
    db.session.commit()
    for _ in range(2):  # Twilio retried the dial action
        post_dial(client, dial_url("callback", attempt), "no-answer")
    attempt, request = reload(db, attempt)
    assert (attempt.outcome, request.status) == ("shopper_no-answer", "failed")
    assert [m.from_ for m in simulator.state.inbox(SHOPPER)] == [PROXY]


def test_a_status_for_an_unknown_leg_or_attempt_stores_nothing(client, db, attempt):
    # A leg the app never names is not of its shape: refused (tests/telephony/test_webhook_fields.py).
    third = {"CallSid": LEG, "CallStatus": "ringing", "SequenceNumber": "1"}
    assert signed_post(client, status_url("callback", attempt, leg="third"), third).status_code == 400
    post_status(client, "/webhooks/twilio/callback/status?attempt=999999", "ringing", 1)
    post_status(client, status_url("relay", attempt), "", 1)  # no CallStatus
    assert db.session.query(CallRecord).count() == 0
    assert db.session.query(CallEvent).count() == 0
