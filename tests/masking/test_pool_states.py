"""Property: allocation never gives a pair a draining or released number, whatever the pool
looks like and however numbers change state between allocations (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.masking import pool
from registry.masking.allocation import PoolExhausted, allocate
from registry.masking.models import Binding, ProxyNumber

STATES = st.sampled_from(["active", "draining", "released"])
NUMBER = st.fixed_dictionaries({"state": STATES, "shared": st.booleans(),
                                "cap": st.one_of(st.none(), st.integers(1, 3)),
                                "country": st.sampled_from(["CN", "US"])})
# An allocation (merchant, shopper, country), or a number drained or released before the next one.
STEP = st.one_of(
    st.tuples(st.just("allocate"), st.integers(0, 3), st.integers(0, 5), st.sampled_from(["CN", "US", None])),
    st.tuples(st.sampled_from(["drain", "release"]), st.integers(0, 7)),
)


def _reset() -> None:
    database.session.rollback()
    database.session.execute(sa.delete(Binding))
    database.session.execute(sa.delete(ProxyNumber))
    database.session.commit()


def _make_pool(numbers: list[dict]) -> list[int]:
    ids = []
    for n, spec in enumerate(numbers):
        e164 = f"+861390000{n:04d}" if spec["country"] == "CN" else f"+1415555{n + 100:04d}"
        proxy = pool.add_proxy_number(e164, shared=spec["shared"], cap=spec["cap"])
        if spec["state"] != "active":
            pool.drain(proxy)
        if spec["state"] == "released":
            proxy.status, proxy.released_at = "released", utcnow()
        ids.append(proxy.id)
    database.session.commit()
    return ids


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(numbers=st.lists(NUMBER, min_size=1, max_size=8), steps=st.lists(STEP, min_size=1, max_size=12))
def test_allocation_never_picks_a_draining_or_released_number(db, numbers, steps):
    _reset()
    ids = _make_pool(numbers)
    for step in steps:
        if step[0] == "allocate":
            _, merchant, shopper, country = step
            known = set(database.session.scalars(sa.select(Binding.id).where(Binding.ended_at.is_(None))))
            try:
                binding = allocate(f"+86138001380{merchant:02d}", f"+86137001370{shopper:02d}",
                                   ttl=timedelta(hours=1), default_cap=2, country=country)
            except PoolExhausted:
                database.session.rollback()
                continue
            status = database.session.scalar(
                sa.select(ProxyNumber.status).where(ProxyNumber.id == binding.proxy_number_id))
            database.session.commit()
            # A pair that already had a binding keeps it (extended) even if its number drained since;
            # a new binding is only ever on an active number.
            assert status == "active" or binding.id in known, (status, binding.proxy_number_id)
        else:
            action, index = step
            proxy = database.session.get(ProxyNumber, ids[index % len(ids)])
            if proxy.status == "released":
                continue
            pool.drain(proxy)
            if action == "release" and pool.active_bindings_of(proxy.id) == 0:
                proxy.status, proxy.released_at = "released", utcnow()
            database.session.commit()
    # No binding made during the run sits on a number that was released with it active.
    on_released = database.session.scalar(
        sa.select(sa.func.count(Binding.id)).join(ProxyNumber, ProxyNumber.id == Binding.proxy_number_id)
        .where(ProxyNumber.status == "released", Binding.ended_at.is_(None)))
    assert on_released == 0
    _reset()
