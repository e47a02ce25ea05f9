"""Calls whose final status callback never arrived are settled from Twilio's own record."""

from datetime import timedelta

import pytest
import requests

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.calllog.models import CallEvent
from registry.scheduler import JOBS, run_job
from registry.telephony import ProviderError, TelephonyGateway

DISPATCH = next(job for job in JOBS if job.name == "dispatch-callbacks")
WATCHDOG = next(job for job in JOBS if job.name == "settle-silent-calls")


def lost(*args, **kwargs):
    raise requests.ConnectionError("the network lost it")


@pytest.fixture
def silent_call(app, db, phones, callback, monkeypatch):
    """The request's call placed, with every webhook Twilio sends about it lost."""
    monkeypatch.setattr(phones.voice.webhooks, "transport", lost)
    assert run_job(app, DISPATCH) == {"placed": 1}
    attempt = db.session.query(CallbackAttempt).one()
    return attempt


def silent_for(db, attempt, minutes: int) -> None:
    attempt.placed_at = attempt.placed_at - timedelta(minutes=minutes)
    db.session.commit()


def test_an_ended_call_nobody_heard_of_is_settled_as_its_webhook_would_have(app, db, phones, silent_call):
    phones.wait_idle(timeout=15)  # nobody answers: it rings out (at 1/100 of real time)
    assert run_job(app, WATCHDOG) == {}  # not silent long enough yet
    silent_for(db, silent_call, 11)
    assert run_job(app, WATCHDOG) == {"settled": 1}
    db.session.expire_all()
    attempt = db.session.get(CallbackAttempt, silent_call.id)
    request = db.session.get(CallbackRequest, attempt.request_id)
    assert attempt.state == "ended" and attempt.outcome == "merchant_no_answer"
    assert request.status == "scheduled" and request.reason == "the store did not answer; trying again"
    event = db.session.query(CallEvent).filter_by(kind="callback").one()
    assert event.data["event"] == "settled_without_webhook" and event.data["merchant_status"] == "no-answer"
    assert run_job(app, WATCHDOG) == {}  # settled once


def test_a_call_still_ringing_is_left_alone(app, db, phones, silent_call):
    silent_for(db, silent_call, 11)
    phones.time_scale = 1.0  # the ring outlasts the test
    assert run_job(app, WATCHDOG) == {"still live": 1}
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, silent_call.id).state == "placed"
    assert db.session.get(CallbackRequest, silent_call.request_id).status == "calling"
    phones.decline(silent_call.merchant_call_sid)


def test_twilio_unreachable_changes_nothing_and_is_asked_again(app, db, phones, silent_call, monkeypatch):
    def unreachable(self, call_sid):
        raise ProviderError("Twilio is unreachable", code=None, status=503)

    monkeypatch.setattr(TelephonyGateway, "fetch_call_status", unreachable)
    silent_for(db, silent_call, 11)
    assert run_job(app, WATCHDOG) == {"Twilio unavailable": 1}
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, silent_call.id).state == "placed"
    monkeypatch.undo()
    phones.decline(silent_call.merchant_call_sid)
