"""Two scheduler processes at once on PostgreSQL: every due request is called exactly once."""

import threading

import pytest

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.operations import CallbackPolicy, request_callback
from tests.callbacks.test_crash_safety import run_scheduler
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_callable_merchant, make_shopper


@pytest.fixture(params=["postgresql"] if TEST_DATABASE_URL else [])
def database_url(request):
    """PostgreSQL only: there the claim is FOR UPDATE SKIP LOCKED, and processes truly race."""
    return TEST_DATABASE_URL


def test_two_schedulers_never_place_the_same_call(app, db, phones, database_url, simulator):
    policy = CallbackPolicy.from_config(app.config)
    stores = [make_callable_merchant(f"+86138001{n:05d}", name=f"S{n}") for n in range(30)]
    shopper = make_shopper()
    requests = []
    for n, store in enumerate(stores):
        buyer = shopper if n == 0 else make_shopper(f"+86137002{n:05d}")
        requests.append(request_callback(buyer, store.id, "asap", None, None, policy))
        db.session.commit()
    for store in stores:
        phones.script(store.numbers[0].e164, outcome="busy")
    outputs = []

    def scheduler():
        outputs.append(run_scheduler("none", database_url, app, simulator))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o.returncode for o in outputs] == [0, 0], [o.stderr[-500:] for o in outputs]
    phones.wait_idle(timeout=20)
    db.session.expire_all()
    attempts = db.session.query(CallbackAttempt).all()
    left = [(r.id, r.status, r.reason, r.lease_owner) for r in db.session.query(CallbackRequest)
            if r.id not in {a.request_id for a in attempts}]
    assert len(attempts) == 30 and len({a.request_id for a in attempts}) == 30, (
        left, [o.stdout for o in outputs], [o.stderr[-2000:] for o in outputs])
    placed_to = [c.to for c in phones.calls() if c.parent_sid is None]
    assert len(placed_to) == 30 and len(set(placed_to)) == 30
