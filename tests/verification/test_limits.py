"""Send limits per number, per IP and per account, counted from the attempts table."""

from datetime import timedelta

import pytest

from registry.core.errors import RateLimited
from registry.core.extensions import db
from registry.telephony import get_gateway
from registry.verification.models import Verification, VerificationAttempt
from registry.verification.operations import Target, send_code
from registry.verification.policy import Requester, VerificationPolicy

POLICY = VerificationPolicy()
SHOPPER = Requester(ip="203.0.113.5")


def target(e164="+8613800138000"):
    return Target.of(e164, "shopper")


@pytest.fixture(autouse=True)
def shared_clock(simulator):
    """Let tests move time forward for the platform's records and for Twilio alike."""
    import time

    offset = [0.0]
    simulator.state.clock = lambda: time.time() + offset[0]
    yield offset
    simulator.state.clock = time.time


def age_all_attempts(db, seconds, clock=None):
    if clock is not None:
        clock[0] += seconds
    for row in [*db.session.query(VerificationAttempt), *db.session.query(Verification)]:
        row.created_at = row.created_at - timedelta(seconds=seconds)
    db.session.commit()


def send(who=SHOPPER, to=None, policy=POLICY):
    attempt = send_code(get_gateway(), to or target(), "sms", who, policy)
    db.session.commit()
    return attempt


def refused(who=SHOPPER, to=None, policy=POLICY) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        send(who, to, policy)
    db.session.commit()  # what the error handler does with keeps_audit
    return caught.value


def test_five_per_hour_then_wait_for_the_oldest_to_leave_the_window(db, simulator, shared_clock):
    for _ in range(5):
        send()
        age_all_attempts(db, 61, shared_clock)  # past the 60 s resend gap, all within the hour
    limit = refused()
    assert "Too many codes were sent to this number" in limit.message
    # The oldest send is 5 * 61 s old: it leaves the hour in 3600 - 305 s.
    assert 3290 <= limit.retry_after <= 3296
    assert len(simulator.state.inbox("+8613800138000")) >= 1


def test_ten_per_day(db, shared_clock):
    for _ in range(10):
        send()
        age_all_attempts(db, 3601, shared_clock)
    limit = refused()
    assert limit.retry_after > 3600 * 10


def test_limits_hold_per_number_across_requesters_but_not_across_numbers(db):
    send(Requester(ip="198.51.100.1"))
    assert refused(Requester(ip="198.51.100.2")).code == "too_many_codes"
    send(Requester(ip="198.51.100.2"), to=target("+8613900139000"))


def test_per_ip_cap_spans_numbers(db):
    policy = VerificationPolicy(sends_per_ip_hour=3)
    for n in range(3):
        send(to=target(f"+86139001390{n:02d}"), policy=policy)
    limit = refused(to=target("+8613900139099"), policy=policy)
    assert "network" in limit.message


def test_per_account_cap_spans_numbers_and_networks(db):
    from tests.factories import make_user

    user = make_user()
    policy = VerificationPolicy(sends_per_account_day=2)
    send(Requester(ip="198.51.100.1", user_id=user.id), to=target("+8613900139001"), policy=policy)
    send(Requester(ip="198.51.100.2", user_id=user.id), to=target("+8613900139002"), policy=policy)
    limit = refused(Requester(ip="198.51.100.3", user_id=user.id), to=target("+8613900139003"),
                    policy=policy)
    assert "account" in limit.message


def test_refusals_are_recorded_but_do_not_count(db):
    send()
    for _ in range(3):
        refused()
    outcomes = [a.outcome for a in db.session.query(VerificationAttempt).order_by("id")]
    assert outcomes == ["sent", "rate_limited", "rate_limited", "rate_limited"]
    age_all_attempts(db, 61)
    send()  # the refusals did not extend the wait
