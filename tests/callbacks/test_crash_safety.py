"""A scheduler killed at any step loses no request and never places an attempt twice."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.core.timeutil import utcnow
from registry.scheduler import tick
from tests.callbacks.conftest import MERCHANT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def slower_ringing(phones):
    """At the usual 1/100 scale a ringing phone's 30 s timeout passes in 0.3 s and may
    reschedule the request under the test's feet; at 1/10 it rings for 3 s."""
    phones.time_scale = 0.1


def run_scheduler(point, database_url, app, simulator) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.callbacks.crash_runner", point, database_url, simulator.url,
         app.config["PUBLIC_BASE_URL"]],
        cwd=ROOT, capture_output=True, text=True, timeout=60)


def expire_lease(db, request_id):
    request = db.session.get(CallbackRequest, request_id)
    request.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()


def merchant_calls(phones):
    return [c for c in phones.calls() if c.to == MERCHANT and c.parent_sid is None]


@pytest.mark.parametrize(
    ("point", "attempts", "outcomes"),
    [
        ("after_claim", 1, [None]),  # claimed, nothing written: placed once on recovery
        ("before_twilio", 2, ["not_placed", None]),  # attempt written, Twilio never asked
        ("after_twilio", 1, [None]),  # Twilio placed it, SID never committed: adopted
    ],
)
def test_killed_scheduler_is_recovered_without_a_second_call(app, db, phones, callback, database_url,
                                                             simulator, point, attempts, outcomes):
    phones.script(MERCHANT, outcome="manual")  # rings until the test is done; no webhooks race
    crashed = run_scheduler(point, database_url, app, simulator)
    assert crashed.returncode == 137, crashed.stderr
    db.session.expire_all()
    request = db.session.get(CallbackRequest, callback.id)
    assert request.status == "calling" and request.lease_owner  # still held, nothing lost
    # Another scheduler must not touch it while the lease holds...
    assert tick(app)["dispatch-callbacks"] == {}
    # ...and takes it over when the lease runs out.
    expire_lease(db, callback.id)
    result = tick(app)["dispatch-callbacks"]
    assert result in ({"placed": 1}, {"adopted": 1})
    db.session.expire_all()
    rows = db.session.query(CallbackAttempt).order_by(CallbackAttempt.seq).all()
    assert len(rows) == attempts and [r.outcome for r in rows] == outcomes
    assert len(merchant_calls(phones)) == 1
    assert rows[-1].merchant_call_sid == merchant_calls(phones)[0].sid
    for call in merchant_calls(phones):
        phones.decline(call.sid)


def test_a_scheduler_killed_mid_call_places_nothing_more(app, db, phones, callback, database_url,
                                                        simulator):
    phones.script(MERCHANT, outcome="manual")
    finished = run_scheduler("none", database_url, app, simulator)
    assert finished.returncode == 0, finished.stderr
    # The process is gone while the call rings; later passes leave the call alone.
    assert tick(app)["dispatch-callbacks"] == {}
    expire_lease(db, callback.id)
    assert tick(app)["dispatch-callbacks"] == {}
    [call] = merchant_calls(phones)
    phones.decline(call.sid)
    phones.wait_idle(timeout=10)
    db.session.expire_all()
    assert db.session.get(CallbackRequest, callback.id).status == "scheduled"  # retry planned


def test_a_call_named_by_its_webhook_before_the_crash_is_adopted(app, db, phones, callback, database_url,
                                                                 simulator):
    """The call's first status callback can record its SID before the dead scheduler's
    commit would have: recovery must adopt that call, not treat it as another attempt's."""
    phones.script(MERCHANT, outcome="manual")
    assert run_scheduler("after_twilio", database_url, app, simulator).returncode == 137
    [call] = merchant_calls(phones)
    db.session.expire_all()
    attempt = db.session.query(CallbackAttempt).one()
    attempt.merchant_call_sid = call.sid  # what /webhooks/twilio/callback/status does
    db.session.commit()
    expire_lease(db, callback.id)
    assert tick(app)["dispatch-callbacks"] == {"adopted": 1}
    db.session.expire_all()
    assert [a.state for a in db.session.query(CallbackAttempt)] == ["placed"]
    assert len(merchant_calls(phones)) == 1
    phones.decline(call.sid)
