"""Allocating proxy numbers: the masking rule, reuse, caps, extensions, expiry."""

from datetime import timedelta

import pytest
import sqlalchemy.exc

from registry.core.timeutil import utcnow
from registry.masking.allocation import PoolExhausted, allocate, end_binding, end_expired
from registry.masking.models import Binding, ProxyNumber
from tests.factories import make_binding, make_proxy
from tests.pg_plans import generic_plan

MERCHANT, OTHER_MERCHANT = "+8613800138000", "+8613800138111"
SHOPPERS = [f"+86137001370{n:02d}" for n in range(10)]
TTL = timedelta(hours=72)


def test_no_proxy_number_holds_two_active_bindings_with_one_party(db):
    proxies = [make_proxy(f"+86139000000{n:02d}") for n in range(1, 4)]
    bindings = [make_binding(MERCHANT, shopper) for shopper in SHOPPERS[:3]]
    assert sorted(b.proxy_number_id for b in bindings) == sorted(p.id for p in proxies)
    # A second merchant reuses the first number for its first shopper: first-fit.
    other = make_binding(OTHER_MERCHANT, SHOPPERS[3])
    assert other.proxy_number_id == proxies[0].id


def test_the_same_pair_reuses_its_binding_and_extends_it(db):
    make_proxy()
    first = make_binding(MERCHANT, SHOPPERS[0], hours=1)
    again = make_binding(MERCHANT, SHOPPERS[0], hours=72)
    assert again.id == first.id
    from registry.core.timeutil import as_utc

    assert as_utc(again.expires_at) > utcnow() + timedelta(hours=71)


def test_prefers_a_number_of_the_parties_country(db):
    make_proxy("+14155550100")
    china = make_proxy("+8613900000001")
    assert make_binding(MERCHANT, SHOPPERS[0], country="CN").proxy_number_id == china.id


def test_cap_and_retirement_are_respected(db):
    from registry.masking.pool import retire

    small = make_proxy("+8613900000001", cap=1)
    retired = make_proxy("+8613900000002")
    retire(retired.e164)
    db.session.commit()
    make_binding(MERCHANT, SHOPPERS[0])
    with pytest.raises(PoolExhausted):
        make_binding(OTHER_MERCHANT, SHOPPERS[1])
    db.session.rollback()
    assert db.session.get(ProxyNumber, small.id).active_bindings == 1


def test_falls_back_to_a_shared_number_with_an_extension(db):
    make_proxy("+8613900000001")
    shared = make_proxy("+8613900000099", shared=True)
    make_binding(MERCHANT, SHOPPERS[0])
    overflow = make_binding(MERCHANT, SHOPPERS[1])
    assert overflow.proxy_number_id == shared.id
    assert overflow.extension is not None and len(overflow.extension) == 4
    another = make_binding(MERCHANT, SHOPPERS[2])
    assert another.proxy_number_id == shared.id and another.extension != overflow.extension


def test_exhausted_pool_raises_and_stores_nothing(db):
    make_proxy("+8613900000001")
    make_binding(MERCHANT, SHOPPERS[0])
    with pytest.raises(PoolExhausted):
        make_binding(MERCHANT, SHOPPERS[1])
    db.session.rollback()
    assert db.session.query(Binding).count() == 1


def test_ended_and_expired_bindings_free_their_slot(db):
    proxy = make_proxy()
    first = make_binding(MERCHANT, SHOPPERS[0])
    end_binding(first, "staff action")
    db.session.commit()
    second = make_binding(MERCHANT, SHOPPERS[1])
    assert second.proxy_number_id == proxy.id
    second.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert end_expired() == 1
    db.session.commit()
    assert db.session.get(ProxyNumber, proxy.id).active_bindings == 0
    assert db.session.get(Binding, second.id).end_reason == "expired"


def test_the_database_itself_refuses_a_second_active_binding_for_a_party(db):
    from registry.core.phones import get_cipher

    proxy = make_proxy()
    make_binding(MERCHANT, SHOPPERS[0])
    h = get_cipher().lookup_hash
    db.session.add(Binding(proxy_number_id=proxy.id, party_a=MERCHANT, party_a_hash=h(MERCHANT),
                           party_b=SHOPPERS[1], party_b_hash=h(SHOPPERS[1]),
                           expires_at=utcnow() + TTL))
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_party_cannot_be_bound_to_itself(db):
    make_proxy()
    with pytest.raises(ValueError):
        allocate(MERCHANT, MERCHANT, ttl=TTL, default_cap=200)


def test_a_full_number_is_flagged_and_skipped_until_a_binding_on_it_ends(db):
    small = make_proxy("+8613900000001", cap=1)
    spare = make_proxy("+8613900000002")
    first = make_binding(MERCHANT, SHOPPERS[0])
    assert first.proxy_number_id == small.id
    assert db.session.get(ProxyNumber, small.id).has_room is False
    assert make_binding(OTHER_MERCHANT, SHOPPERS[1]).proxy_number_id == spare.id
    end_binding(db.session.get(Binding, first.id), "staff action")
    db.session.commit()
    assert db.session.get(ProxyNumber, small.id).has_room is True
    # First-fit again: the lowest number with room, now the small one.
    assert make_binding(OTHER_MERCHANT, SHOPPERS[2]).proxy_number_id == small.id


def test_a_number_flagged_full_under_a_smaller_default_cap_is_still_found(db):
    """Raising the default cap leaves numbers flagged full; the whole pool is searched
    before the pair goes to a shared number or waits."""
    proxy = make_proxy("+8613900000001")
    make_proxy("+8613900000099", shared=True)
    allocate(MERCHANT, SHOPPERS[0], ttl=TTL, default_cap=1)
    db.session.commit()
    assert db.session.get(ProxyNumber, proxy.id).has_room is False
    binding = allocate(OTHER_MERCHANT, SHOPPERS[1], ttl=TTL, default_cap=2)
    db.session.commit()
    assert (binding.proxy_number_id, binding.extension) == (proxy.id, None)
    assert db.session.get(ProxyNumber, proxy.id).active_bindings == 2


def test_a_partys_expired_binding_is_ended_and_its_slot_reused(db):
    proxy = make_proxy()
    old = make_binding(MERCHANT, SHOPPERS[0], hours=1)
    later = utcnow() + timedelta(hours=2)
    binding = allocate(MERCHANT, SHOPPERS[1], ttl=TTL, default_cap=200, now=later)
    db.session.commit()
    assert binding.proxy_number_id == proxy.id and binding.id != old.id
    assert db.session.get(Binding, old.id).end_reason == "expired"
    assert db.session.get(ProxyNumber, proxy.id).active_bindings == 1


def test_an_expired_binding_of_the_same_pair_is_replaced_not_reused(db):
    make_proxy()
    old = make_binding(MERCHANT, SHOPPERS[0], hours=1)
    binding = allocate(MERCHANT, SHOPPERS[0], ttl=TTL, default_cap=200,
                       now=utcnow() + timedelta(hours=2))
    db.session.commit()
    assert binding.id != old.id
    assert db.session.get(Binding, old.id).end_reason == "expired"


def test_the_binding_returned_is_ready_for_the_caller_without_another_query(db):
    from sqlalchemy import event

    proxy = make_proxy()
    e164, proxy_id = proxy.e164, proxy.id
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        binding = allocate(MERCHANT, SHOPPERS[0], ttl=TTL, default_cap=200, merchant_id=None)
        seen = len(statements)
        assert (binding.proxy_number.e164, binding.proxy_number_id) == (e164, proxy_id)
        assert (binding.party_a, binding.party_b, binding.extension) == (MERCHANT, SHOPPERS[0], None)
        assert binding.active and binding.id is not None
        assert len(statements) == seen
        assert not db.session.dirty and not db.session.new
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    db.session.commit()
    assert db.session.get(ProxyNumber, proxy_id).active_bindings == 1
    stored = db.session.get(Binding, binding.id)
    assert (stored.party_a, stored.party_b) == (MERCHANT, SHOPPERS[0])


def test_a_slot_taken_by_a_racing_allocation_is_skipped_for_the_next_number(db, monkeypatch):
    """The insert reports the unique index's refusal (no error, no savepoint) and the
    next number is tried; the refused number's count is left alone."""
    from registry.masking import allocation_sql

    first, second = make_proxy("+8613900000001"), make_proxy("+8613900000002")
    make_binding(MERCHANT, SHOPPERS[0])  # on the first number
    if db.engine.dialect.name == "postgresql":
        # The pick sees committed rows; leave party A out of its check, so it is as
        # blind to the first binding as it is to a racing allocation's uncommitted one.
        blind = allocation_sql._FITS.replace("x.party_a_hash = ANY(CAST(:a_hashes AS varchar[]))",
                                             "x.party_a_hash = 'nobody'")
        assert blind != allocation_sql._FITS
        monkeypatch.setattr(allocation_sql, "_PG_DIRECT", allocation_sql._pg_statements(blind))
    else:
        real_uses = allocation_sql._uses
        monkeypatch.setattr(allocation_sql, "_DIRECT", {})  # the queries are built again, blind
        monkeypatch.setattr(allocation_sql, "_uses", lambda column, param: (
            real_uses(column, param) if param == "b_hashes" else sqlalchemy.false()))
    binding = make_binding(MERCHANT, SHOPPERS[1])
    assert binding.proxy_number_id == second.id
    assert db.session.get(ProxyNumber, first.id).active_bindings == 1
    assert db.session.get(ProxyNumber, second.id).active_bindings == 1


def test_a_rolled_back_allocation_leaves_nothing_behind_in_the_session(db):
    make_proxy()
    first = allocate(MERCHANT, SHOPPERS[0], ttl=TTL, default_cap=200)
    first_id = first.id
    db.session.rollback()
    assert first not in db.session
    # SQLite gives the next row the same id: the session must not still hold the ghost.
    again = allocate(MERCHANT, SHOPPERS[0], ttl=TTL, default_cap=200)
    db.session.commit()
    assert db.session.query(Binding).all() == [again]
    assert again.id == first_id or db.engine.dialect.name == "postgresql"


def test_the_allocating_statement_reads_bindings_by_index_in_a_generic_plan(db):
    """psycopg prepares a statement it has run five times, and PostgreSQL soon plans it once for
    any parameters. That generic plan must still find a party's bindings by index: it guesses
    `expires_at <= $n` matches a third of the table, and a plan reading every binding made
    each allocation cost ~4 ms at 10,000 bindings (growing with them)."""
    from sqlalchemy import text

    from registry.masking import allocation_sql

    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements' generic plans are PostgreSQL's")
    proxy = make_proxy(shared=True)
    # 50 stores with 200 shoppers each (on extensions, so that one number can hold them).
    db.session.execute(text(
        "INSERT INTO bindings (proxy_number_id, extension, party_a_encrypted, party_a_hash, "
        "party_b_encrypted, party_b_hash, created_at, expires_at) SELECT :proxy, lpad(i::text, 4, '0'), "
        "'x', 'a' || i % 50, 'x', 'b' || i, now(), now() + interval '72 hours' "
        "FROM generate_series(1, 9999) AS i"), {"proxy": proxy.id})
    db.session.execute(text("ANALYZE bindings"))
    plan = generic_plan(db.session, allocation_sql._PG_DIRECT[True, False], types={
        "check": "boolean", "now": "timestamptz", "created_at": "timestamptz", "expires_at": "timestamptz",
        "default_cap": "integer", "merchant_id": "integer", "skip": "integer[]", "client_id": "integer",
        "a_hashes": "varchar[]", "b_hashes": "varchar[]", "hashes": "varchar[]"},
        values={"check": "true", "a_hashes": "'{a1}'", "b_hashes": "'{b-new}'", "hashes": "'{a1,b-new}'",
                "skip": "'{}'", "merchant_id": "NULL",
                "extension": "NULL", "default_cap": "200", "country": "'CN'", "client_id": "NULL",
                "order_ref": "NULL"})
    assert "Seq Scan on bindings" not in plan, plan
