"""Allocation racing on PostgreSQL: many threads at once never break the masking rule."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.core.extensions import db as _db
from registry.masking.allocation import PoolExhausted, allocate
from registry.masking.models import Binding, ProxyNumber
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_proxy

MERCHANTS = [f"+86138001380{n:02d}" for n in range(3)]
SHOPPERS = [f"+86137001{n:05d}" for n in range(40)]


@pytest.fixture(params=["postgresql"] if TEST_DATABASE_URL else [])
def database_url(request):
    """PostgreSQL only: SQLite serialises writers, so the race is PostgreSQL's."""
    return TEST_DATABASE_URL


@pytest.mark.parametrize(("numbers", "cap"), [(45, 200), (100, 2)])
def test_concurrent_allocations_keep_one_active_binding_per_party_and_number(app, db, numbers, cap):
    """With cap 2 numbers fill up while others race for them: the full flag must
    end up right too (of 100 numbers, a merchant's other 39 and at most 59 full leave one)."""
    for n in range(numbers):
        make_proxy(f"+86139000{n:05d}")
    pairs = [(m, s) for m in MERCHANTS for s in SHOPPERS]
    errors, exhausted = [], []
    barrier = threading.Barrier(8)

    def worker(chunk):
        with app.app_context():
            barrier.wait()
            for merchant, shopper in chunk:
                try:
                    allocate(merchant, shopper, ttl=timedelta(hours=1), default_cap=cap)
                    _db.session.commit()
                except PoolExhausted:
                    _db.session.rollback()
                    exhausted.append((merchant, shopper))
                except Exception as exc:  # any other error fails the test below
                    _db.session.rollback()
                    errors.append(repr(exc))
            _db.session.remove()

    threads = [threading.Thread(target=worker, args=(pairs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert exhausted == []
    active = Binding.ended_at.is_(None)
    assert db.session.scalar(select(func.count(Binding.id)).where(active)) == len(pairs)
    for party in (Binding.party_a_hash, Binding.party_b_hash):
        worst = db.session.execute(
            select(Binding.proxy_number_id, party, func.count()).where(active)
            .group_by(Binding.proxy_number_id, party).having(func.count() > 1)
        ).all()
        assert worst == []
    # The counters the allocator keeps agree with the rows, and the flags with the counters.
    for proxy in db.session.scalars(select(ProxyNumber)):
        rows = db.session.scalar(select(func.count(Binding.id)).where(
            active, Binding.proxy_number_id == proxy.id))
        assert proxy.active_bindings == rows
        assert proxy.has_room == (rows < cap)


def test_a_number_another_transaction_holds_is_waited_for_not_taken_as_full(app, db, database_url):
    """The one direct number is held by an allocation not yet committed: a second pair waits for
    it, rather than being told the pool is exhausted or given an extension on the shared number."""
    direct = make_proxy("+8613900000001")
    make_proxy("+8613900000002", shared=True)
    holding, committing = threading.Event(), []

    def first():
        with app.app_context():
            allocate(MERCHANTS[0], SHOPPERS[0], ttl=timedelta(hours=1), default_cap=200)
            holding.set()
            time.sleep(0.5)  # the number's row stays locked until this commit
            committing.append(time.monotonic())
            _db.session.commit()
            _db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(10)
        with app.app_context():
            binding = allocate(MERCHANTS[1], SHOPPERS[1], ttl=timedelta(hours=1), default_cap=200)
            _db.session.commit()
            got = (binding.proxy_number_id, binding.extension, time.monotonic())
            _db.session.remove()
    finally:
        thread.join()
    assert got[:2] == (direct.id, None)
    assert got[2] >= committing[0]  # it waited for the first to commit
