"""Shopper and merchant verifications of one number do not lock each other.

Twilio Verify keeps one pending verification per number and service, so a
shopper's and a merchant's code for the same number would be the same Verify
verification. The attack the tests replay: anyone asks for a *shopper* code
for a merchant's number and fails the check five times; the merchant must
still be able to send and check their own code.
"""

from datetime import timedelta

import pytest

from registry.merchants.models import MerchantNumber
from registry.verification.models import Verification, VerificationAttempt
from tests.factories import bearer, make_merchant, make_number, make_token, make_user

NUMBER = "+8613800138000"
ATTACKER_IP = {"REMOTE_ADDR": "198.51.100.66"}


@pytest.fixture(autouse=True)
def shared_clock(simulator):
    """Let tests move time forward for the platform's records and for Twilio alike."""
    import time

    offset = [0.0]
    simulator.state.clock = lambda: time.time() + offset[0]
    yield offset
    simulator.state.clock = time.time


def wait(db, clock, seconds):
    """`seconds` pass: for the simulator's clock and for every stored time of a code."""
    clock[0] += seconds
    for row in db.session.query(VerificationAttempt):
        row.created_at -= timedelta(seconds=seconds)
    for row in db.session.query(Verification):
        row.created_at -= timedelta(seconds=seconds)
    db.session.commit()


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def number(owner):
    return make_number(make_merchant(owner), NUMBER)


@pytest.fixture
def headers(owner):
    return bearer(make_token(owner))


def wrong_for(simulator) -> str:
    return "000000" if simulator.state.last_code(NUMBER) != "000000" else "111111"


def shopper_send(client):
    return client.post("/api/v1/shopper/verification", json={"phone": NUMBER},
                       environ_base=ATTACKER_IP)


def shopper_check(client, code):
    return client.post("/api/v1/shopper/verification/check", json={"phone": NUMBER, "code": code},
                       environ_base=ATTACKER_IP)


def merchant_send(client, headers, number):
    return client.post(f"/api/v1/numbers/{number.id}/verification", json={}, headers=headers)


def merchant_check(client, headers, number, code):
    return client.post(f"/api/v1/numbers/{number.id}/verification/check", json={"code": code},
                       headers=headers)


def lock_shopper_code(client, simulator):
    """The attack: a shopper code for the merchant's number, then five wrong guesses."""
    assert shopper_send(client).status_code == 202
    wrong = wrong_for(simulator)
    lefts = [shopper_check(client, wrong).json["error"].get("attempts_left") for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    assert shopper_check(client, wrong).json["error"]["code"] == "too_many_checks"


def test_an_anonymous_shopper_lockout_does_not_lock_the_merchants_code(client, db, simulator,
                                                                       number, headers):
    lock_shopper_code(client, simulator)
    sent = merchant_send(client, headers, number)
    assert sent.status_code == 202, sent.json
    checked = merchant_check(client, headers, number, simulator.state.last_code(NUMBER))
    assert checked.status_code == 200, checked.json
    db.session.expire_all()
    assert db.session.get(MerchantNumber, number.id).status == "verified"


def test_the_lockout_stays_in_its_context_after_the_resend_gap(client, db, simulator, shared_clock,
                                                               number, headers):
    """As the issue tells it: later, the merchant sends their own code: a fresh one, not the
    attacker's spent verification re-sent."""
    lock_shopper_code(client, simulator)
    attacked = simulator.state.last_code(NUMBER)
    wait(db, shared_clock, 61)
    assert merchant_send(client, headers, number).status_code == 202
    code = simulator.state.last_code(NUMBER)
    sids = {row.provider_sid for row in db.session.query(VerificationAttempt).filter_by(
        action="send", outcome="sent")}
    assert len(sids) == 2  # the merchant's code is its own Verify verification
    assert merchant_check(client, headers, number, code).status_code == 200
    # And the attacker's code, canceled at Twilio, is of no use any more.
    if code != attacked:
        assert shopper_check(client, attacked).status_code in (400, 429)


def test_a_merchant_lockout_does_not_lock_a_shopper_of_the_same_number(client, db, simulator,
                                                                       number, headers):
    assert merchant_send(client, headers, number).status_code == 202
    wrong = wrong_for(simulator)
    for _ in range(5):
        assert merchant_check(client, headers, number, wrong).status_code == 400
    assert shopper_send(client).status_code == 202
    checked = shopper_check(client, simulator.state.last_code(NUMBER))
    assert checked.status_code == 200 and checked.json["token"]


def test_a_resend_after_a_lockout_starts_a_fresh_check(client, db, simulator, shared_clock,
                                                       number, headers):
    assert merchant_send(client, headers, number).status_code == 202
    wrong = wrong_for(simulator)
    for _ in range(5):
        merchant_check(client, headers, number, wrong)
    assert merchant_check(client, headers, number, wrong).status_code == 429
    wait(db, shared_clock, 61)
    assert merchant_send(client, headers, number).status_code == 202
    fresh = simulator.state.last_code(NUMBER)
    assert merchant_check(client, headers, number, fresh).status_code == 200
    statuses = [v.status for v in simulator.state.verifications.values()]
    assert sorted(statuses) == ["approved", "canceled"]


def test_a_shopper_resend_after_a_lockout_starts_a_fresh_check(client, db, simulator, shared_clock):
    lock_shopper_code(client, simulator)
    wait(db, shared_clock, 61)
    assert shopper_send(client).status_code == 202
    assert shopper_check(client, simulator.state.last_code(NUMBER)).status_code == 200


def test_a_shopper_cannot_cancel_the_merchants_pending_code(client, db, simulator, number, headers):
    assert merchant_send(client, headers, number).status_code == 202
    code = simulator.state.last_code(NUMBER)
    refused = shopper_send(client)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_codes"
    assert refused.json["error"]["reason"] == "too_many_codes.pending"
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert shopper_check(client, code).json["error"]["code"] == "no_code"
    assert merchant_check(client, headers, number, code).status_code == 200


def test_anonymous_sends_do_not_use_up_the_merchants_sends(client, db, simulator, shared_clock,
                                                           number, headers):
    """The per-number limits count shoppers' and merchants' codes apart: five shopper codes
    in an hour stop a sixth, not the owner's."""
    for _ in range(5):
        assert shopper_send(client).status_code == 202
        wait(db, shared_clock, 61)
    assert shopper_send(client).json["error"]["reason"] == "too_many_codes.number"
    assert merchant_send(client, headers, number).status_code == 202
    assert merchant_check(client, headers, number,
                          simulator.state.last_code(NUMBER)).status_code == 200
