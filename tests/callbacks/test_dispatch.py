"""Callbacks placed by the scheduler and played through the simulator, end to end."""

from datetime import timedelta

from sqlalchemy import update

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.settings import Urls, settings_from_config
from registry.calllog.models import CallRecord
from registry.calllog.verification import verify
from registry.core.timeutil import as_utc, utcnow
from registry.scheduler import tick
from tests.callbacks.conftest import MERCHANT, PROXY, SHOPPER


def settle(app, phones, db, request_id):
    phones.wait_idle(timeout=15)
    db.session.expire_all()
    return db.session.get(CallbackRequest, request_id)


def make_due_again(db, request_id):
    request = db.session.get(CallbackRequest, request_id)
    request.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_merchant_presses_1_and_the_shopper_is_bridged_in(app, db, phones, callback):
    phones.script(MERCHANT, outcome="answer", answer_after=1, digits="1")
    phones.script(SHOPPER, outcome="answer", answer_after=2, hangup_after=30)
    assert tick(app)["dispatch-callbacks"] == {"placed": 1}
    request = settle(app, phones, db, callback.id)
    assert request.status == "completed" and request.reason is None
    [merchant_call] = [c for c in phones.calls() if c.to == MERCHANT and c.parent_sid is None]
    assert merchant_call.from_ == PROXY
    whisper = " ".join(merchant_call.heard)
    assert "Tea House" in whisper and "A - 7 7" in whisper  # the order reference, spelt out
    [shopper_leg] = [phones.call(sid) for sid in merchant_call.children]
    assert shopper_leg.to == SHOPPER and shopper_leg.from_ == PROXY  # masked both ways
    kinds = {r.kind: r.status for r in db.session.query(CallRecord)}
    assert kinds == {"callback_merchant_leg": "completed", "callback_shopper_leg": "completed"}
    assert verify().ok
    # The shopper's view of it, with masked numbers only.
    attempt = db.session.query(CallbackAttempt).one()
    assert (attempt.outcome, attempt.state) == ("completed", "ended")


def test_busy_merchant_is_retried_with_back_off_then_expires(app, db, phones, callback):
    phones.script(MERCHANT, outcome="busy")
    for attempt in range(1, 4):
        assert tick(app)["dispatch-callbacks"] == {"placed": 1}
        request = settle(app, phones, db, callback.id)
        if attempt < 3:
            assert request.status == "scheduled" and "did not answer" in request.reason
            assert as_utc(request.due_at) > utcnow() + timedelta(seconds=290)  # back-off
            assert tick(app)["dispatch-callbacks"] == {}  # not due yet: nothing placed
            make_due_again(db, callback.id)
    assert request.status == "expired" and "after 3 attempts" in request.reason
    merchant_calls = [c for c in phones.calls() if c.to == MERCHANT]
    assert len(merchant_calls) == 3


def test_merchant_not_pressing_1_counts_as_a_miss(app, db, phones, callback):
    phones.script(MERCHANT, outcome="answer", answer_after=1, digits="9")
    tick(app)
    request = settle(app, phones, db, callback.id)
    assert request.status == "scheduled"
    assert db.session.query(CallbackAttempt).one().outcome == "merchant_did_not_connect"
    assert not any(c.to == SHOPPER for c in phones.calls())


def test_shopper_missing_twice_fails_with_a_text_from_the_proxy(app, db, phones, callback):
    phones.script(MERCHANT, outcome="answer", answer_after=1, digits="1")
    phones.script(SHOPPER, outcome="no-answer")
    tick(app)
    request = settle(app, phones, db, callback.id)
    assert request.status == "scheduled" and "you did not answer" in request.reason
    make_due_again(db, callback.id)
    tick(app)
    request = settle(app, phones, db, callback.id)
    assert request.status == "failed" and request.reason == "you did not answer the callback"
    [text] = [m for m in phones.inbox(SHOPPER) if m.kind == "sms"]
    assert text.from_ == PROXY and "Tea House tried to call you back" in text.body


def test_twilio_unavailable_keeps_the_request(app, db, phones, callback):
    app.extensions["telephony"]._http.api_base_url = "http://127.0.0.1:9"  # nothing listens
    try:
        assert tick(app)["dispatch-callbacks"] == {"provider error": 1}
    finally:
        app.extensions["telephony"]._http.api_base_url = phones_url(app)
    db.session.expire_all()
    request = db.session.get(CallbackRequest, callback.id)
    assert request.status == "scheduled" and "retrying" in request.reason
    assert db.session.query(CallbackAttempt).one().outcome == "provider_error"


def phones_url(app):
    return app.config["TWILIO_API_URL"]


def test_cancelled_or_blocked_requests_are_not_called(app, db, phones, callback):
    from registry.callbacks.operations import cancel

    cancel(db.session.get(CallbackRequest, callback.id))
    db.session.commit()
    assert tick(app)["dispatch-callbacks"] == {}
    assert phones.calls() == []


def chunk_of_requests(app, db, phones, n):
    from registry.callbacks.operations import CallbackPolicy, request_callback
    from tests.factories import make_callable_merchant, make_shopper

    policy = CallbackPolicy.from_config(app.config)
    # At 1/10 of real time a ring lasts seconds, not a third of one: on a loaded machine
    # the first calls of a chunk must still be ringing when the test looks at them.
    phones.time_scale = 0.1
    requests = []
    for i in range(n):
        store = make_callable_merchant(f"+86138002{i:05d}", name=f"Store {i}")
        phones.script(store.numbers[0].e164, outcome="manual")
        requests.append(request_callback(make_shopper(f"+86137003{i:05d}"), store.id, "asap", None, None,
                                         policy))
        db.session.commit()
    return requests


def test_a_chunk_of_due_requests_is_placed_together_each_once(app, db, phones):
    from registry.callbacks.placing import CHUNK
    from registry.merchants.models import Merchant

    requests = chunk_of_requests(app, db, phones, CHUNK + 3)
    assert tick(app)["dispatch-callbacks"] == {"placed": CHUNK + 3}
    db.session.expire_all()
    attempts = db.session.query(CallbackAttempt).all()
    calls = {c.sid: c for c in phones.calls() if c.parent_sid is None}
    assert len(calls) == len(attempts) == CHUNK + 3
    assert {a.request_id for a in attempts} == {r.id for r in requests}
    for attempt in attempts:  # each attempt names its own call, to its own store
        assert attempt.state == "placed" and attempt.merchant_call_sid in calls
        store = db.session.get(Merchant, attempt.request.merchant_id)
        assert calls[attempt.merchant_call_sid].to == store.numbers[0].e164
    assert all(db.session.get(CallbackRequest, r.id).lease_owner is None for r in requests)
    for sid in calls:
        phones.decline(sid)


def test_the_next_chunk_goes_out_while_twilio_is_still_answering_the_one_before(app, db, phones,
                                                                               monkeypatch):
    """A slow answer holds up its own chunk only: the pass writes the next chunk's attempts and
    sends its requests meanwhile, then stores both chunks' calls."""
    import threading

    from registry.callbacks.dispatch import FIRST_CLAIM
    from registry.telephony import TelephonyGateway

    requests = chunk_of_requests(app, db, phones, FIRST_CLAIM + 3)  # two claims, so two chunks
    slow, later = "+8613800200000", {f"+86138002{i:05d}" for i in range(FIRST_CLAIM, FIRST_CLAIM + 3)}
    later_asked, overtaken = threading.Event(), []
    real_create_call = TelephonyGateway.create_call

    def create_call(self, **kwargs):
        if kwargs["to"] == slow:  # the first chunk's first call: Twilio takes its time
            overtaken.append(later_asked.wait(5))
        elif kwargs["to"] in later:
            later_asked.set()
        return real_create_call(self, **kwargs)

    monkeypatch.setattr(TelephonyGateway, "create_call", create_call)
    assert tick(app)["dispatch-callbacks"] == {"placed": FIRST_CLAIM + 3}
    assert overtaken == [True]
    db.session.expire_all()
    attempts = db.session.query(CallbackAttempt).all()
    assert sorted(a.request_id for a in attempts) == sorted(r.id for r in requests)
    assert all(a.state == "placed" and a.merchant_call_sid for a in attempts)
    for call in phones.calls():
        phones.decline(call.sid)


def test_one_request_failing_costs_the_rest_of_its_chunk_nothing(app, db, phones, monkeypatch):
    import registry.callbacks.placing as placing

    requests = chunk_of_requests(app, db, phones, 4)
    broken = requests[2].id
    real_allocate = placing.allocate

    def allocate(merchant_e164, *args, **kwargs):
        if kwargs["merchant_id"] == requests[2].merchant_id:
            raise RuntimeError("a bug")
        return real_allocate(merchant_e164, *args, **kwargs)

    monkeypatch.setattr(placing, "allocate", allocate)
    assert tick(app)["dispatch-callbacks"] == {"placed": 3, "error": 1}
    db.session.expire_all()
    assert {a.request_id for a in db.session.query(CallbackAttempt)} == {r.id for r in requests} - {broken}
    held = db.session.get(CallbackRequest, broken)
    assert held.status == "calling" and held.lease_owner  # taken up again when the lease ends
    for call in phones.calls():
        phones.decline(call.sid)


def test_a_lease_that_ran_out_is_taken_by_the_first_claim_of_a_pass(app, db, phones, callback):
    from registry.callbacks.dispatch import claim_due
    from registry.callbacks.settings import DispatchSettings

    request = db.session.get(CallbackRequest, callback.id)
    request.status, request.lease_owner = "calling", "dead-host:1"
    request.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    settings = DispatchSettings(worker="test:1")
    # Stale leases are looked for once a pass only: a claim for due requests alone leaves it.
    assert claim_due(settings, stale=False) == []
    phones.script(MERCHANT, outcome="busy")
    assert tick(app)["dispatch-callbacks"] == {"placed": 1}
    assert len([c for c in phones.calls() if c.to == MERCHANT]) == 1


def test_a_pass_that_goes_on_while_work_is_due_still_takes_up_leases_that_ran_out(app, db, phones,
                                                                                  monkeypatch):
    """A pass lasts as long as requests keep falling due, so it looks for dead schedulers'
    leases every STALE_EVERY seconds of it, not only at its start."""
    import registry.callbacks.dispatch as dispatch
    from registry.scheduler import WORKER_NAME
    from registry.telephony import get_gateway

    first, orphan, later = chunk_of_requests(app, db, phones, 3)
    # `later` falls due while the pass runs; `orphan` is not due at the start.
    for request, seconds in ((orphan, 3600), (later, 3600)):
        request.due_at = utcnow() + timedelta(seconds=seconds)
    db.session.commit()
    now = [0.0]
    real_claim = dispatch.claim_due

    def claim_due(settings, **kwargs):
        claimed = real_claim(settings, **kwargs)
        if claimed == [first.id]:
            # Meanwhile another scheduler claims `orphan` and dies, `later` falls due, and
            # more than STALE_EVERY seconds go by.
            db.session.execute(update(CallbackRequest).where(CallbackRequest.id == orphan.id).values(
                status="calling", lease_owner="dead-host:1", lease_until=utcnow() - timedelta(seconds=1)))
            db.session.execute(update(CallbackRequest).where(CallbackRequest.id == later.id).values(
                due_at=utcnow()))
            db.session.commit()
            now[0] += dispatch.STALE_EVERY + 1
        return claimed

    monkeypatch.setattr(dispatch, "claim_due", claim_due)
    settings = settings_from_config(app.config, WORKER_NAME)
    counts = dispatch.dispatch_once(get_gateway(), settings, Urls(app.config["PUBLIC_BASE_URL"]),
                                    clock=lambda: now[0], sleep=lambda seconds: None)
    assert counts == {"placed": 3}
    db.session.expire_all()
    placed = {a.request_id for a in db.session.query(CallbackAttempt)}
    assert placed == {first.id, orphan.id, later.id}
    for call in phones.calls():
        phones.decline(call.sid)


def test_a_claim_leases_no_more_requests_than_it_asks_for(app, db, phones):
    """The leases a claim hands out are the pass's to place; a claim that took every due request
    would leave another scheduler idle while this one works through them alone."""
    from registry.callbacks.dispatch import claim_due
    from registry.callbacks.settings import DispatchSettings

    requests = chunk_of_requests(app, db, phones, 12)
    claimed = claim_due(DispatchSettings(worker="test:1"), limit=5, stale=False)
    db.session.expire_all()
    leased = [r.id for r in db.session.query(CallbackRequest).filter_by(status="calling")]
    assert len(claimed) == 5 and sorted(leased) == sorted(claimed)
    assert claimed == [r.id for r in requests[:5]]  # the earliest due first
