"""Allocating proxy numbers: the masking rule, reuse, caps, extensions, expiry."""

from datetime import timedelta

import pytest
import sqlalchemy.exc

from registry.masking.allocation import PoolExhausted, allocate, end_binding, end_expired
from registry.masking.models import Binding, ProxyNumber
from registry.timeutil import utcnow
from tests.factories import make_binding, make_proxy

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
    from registry.timeutil import as_utc

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
    from registry.phones import get_cipher

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
