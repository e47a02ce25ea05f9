"""Routing on a busy proxy number: each caller reaches their own partner, found by index."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from registry.core.extensions import db as _db
from registry.core.timeutil import utcnow
from registry.masking import routing
from tests.factories import make_binding, make_proxy
from tests.pg_plans import generic_plan

PROXY = "+8613900000001"
PAIRS = [(f"+86138000001{n:02d}", f"+86137000001{n:02d}") for n in range(20)]


@pytest.fixture
def busy_number(db):
    """One proxy number carrying 20 pairs of distinct parties, as a loaded number does."""
    make_proxy(PROXY)
    return [make_binding(merchant, shopper) for merchant, shopper in PAIRS]


def test_each_party_on_a_busy_number_reaches_their_own_partner(busy_number):
    assert {binding.proxy_number.e164 for binding in busy_number} == {PROXY}
    merchant, shopper = PAIRS[7]
    from_shopper, from_merchant = routing.decide(PROXY, shopper), routing.decide(PROXY, merchant)
    assert (from_shopper.action, from_shopper.connect_to) == ("connect", merchant)
    assert (from_merchant.action, from_merchant.connect_to) == ("connect", shopper)
    assert from_shopper.binding_id == from_merchant.binding_id == busy_number[7].id
    assert routing.decide(PROXY, "+8613600000999").reason == "no active binding for this caller"


def test_an_ended_or_expired_binding_on_a_busy_number_no_longer_connects(busy_number):
    busy_number[3].ended_at = utcnow()
    busy_number[4].expires_at = utcnow() - timedelta(seconds=1)
    _db.session.commit()
    for merchant, shopper in PAIRS[3:5]:
        assert routing.decide(PROXY, shopper).reason == "no active binding for this caller"
        assert routing.decide(PROXY, merchant).reason == "no active binding for this caller"
    assert routing.decide(PROXY, PAIRS[5][1]).connect_to == PAIRS[5][0]


def test_the_routing_statement_probes_the_callers_binding_in_a_generic_plan(db):
    """psycopg prepares the statement and PostgreSQL soon plans it once for any caller. That
    plan must find the caller's binding by the (proxy, party) unique indexes: an OR of the two
    sides read every active binding of the number (up to its cap), or every binding of the
    merchant calling, on every call."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements' generic plans are PostgreSQL's")
    # A marketplace: 100 numbers, 100 merchants each bound once on every number, 10,000 shoppers.
    db.session.execute(text(
        "WITH numbers AS (INSERT INTO proxy_numbers (e164, country, status, shared, active_bindings, "
        "created_at) SELECT '+86139000' || lpad(g::text, 5, '0'), 'CN', 'active', false, 100, now() "
        "FROM generate_series(1, 100) AS g RETURNING id), "
        "ranked AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM numbers) "
        "INSERT INTO bindings (proxy_number_id, party_a_encrypted, party_a_hash, party_b_encrypted, "
        "party_b_hash, created_at, expires_at) SELECT ranked.id, 'x', 'a' || i / 100, 'x', 'b' || i, "
        "now(), now() + interval '72 hours' FROM generate_series(0, 9999) AS i "
        "JOIN ranked ON ranked.k = i % 100"))
    db.session.execute(text("ANALYZE bindings"))
    db.session.execute(text("ANALYZE proxy_numbers"))
    plan = generic_plan(db.session, routing._route_query(False),
                        types={"now": "timestamptz", "param_1": "integer"},
                        values={"to": "'+8613900000007'", "caller": "'a7'", "param_1": "1",
                                "status_1": "'suspended'"})
    assert "uq_bindings_active_party_a" in plan, plan
    assert "ix_bindings_active_proxy" not in plan and "Seq Scan on bindings" not in plan, plan
