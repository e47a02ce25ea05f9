"""Searching, buying, draining and releasing proxy numbers through the gateway, against the
simulator: what Twilio is asked, what the pool keeps, and each refusal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.masking import pool, provisioning
from registry.masking.allocation import end_binding
from registry.masking.models import Binding, ProxyNumber
from registry.telephony import get_gateway
from tests.factories import make_binding, make_proxy
from tests.pool_support import restore_simulator_numbers  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("restore_simulator_numbers")

BASE = "http://127.0.0.1:5000"


def proxies(db) -> list[ProxyNumber]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ProxyNumber).order_by(ProxyNumber.id)))


def test_search_lists_what_twilio_sells_with_both_capabilities(db):
    found = provisioning.search(get_gateway(), "us", "local", area_code="415", contains="555")
    assert found and all(n.phone_number.startswith("+1415555") for n in found)
    assert all(n.voice and n.sms and n.country == "US" for n in found)
    # London numbers take no texts: a pool number must, so none is offered.
    assert provisioning.search(get_gateway(), "GB", "local") == []
    assert provisioning.search(get_gateway(), "GB", "mobile")


def test_search_leaves_out_numbers_already_in_the_pool(db):
    first = provisioning.search(get_gateway(), "AU", "mobile")[0]
    make_proxy(first.phone_number)
    again = provisioning.search(get_gateway(), "AU", "mobile")
    assert first.phone_number not in [n.phone_number for n in again]


@pytest.mark.parametrize(("country", "kind", "field"), [
    ("ZZ", "local", "country"),   # Twilio does not know it
    ("US", "mobile", "country"),  # Twilio sells no mobile numbers there
    ("USA", "local", "country"), ("", "local", "country"), (None, "local", "country"),
    ("US", "tollfree", "type"),
])
def test_search_refusals_name_the_field(db, country, kind, field):
    with pytest.raises(InvalidInput) as refused:
        provisioning.search(get_gateway(), country, kind)
    assert refused.value.field == field


def test_search_refuses_bad_area_codes_and_patterns(db):
    with pytest.raises(InvalidInput) as area:
        provisioning.search(get_gateway(), "US", "local", area_code="4a5")
    assert area.value.field == "area_code"
    with pytest.raises(InvalidInput) as contains:
        provisioning.search(get_gateway(), "US", "local", contains="55%")
    assert contains.value.field == "contains"


def test_buy_sets_our_webhooks_and_adds_the_number(db, simulator):
    offer = provisioning.search(get_gateway(), "US", "local", area_code="312")[0]
    proxy = provisioning.buy(get_gateway(), offer.phone_number, BASE)
    db.session.commit()
    owned = simulator.state.find_number(offer.phone_number)
    assert owned is not None and proxy.provider_sid == owned.sid
    assert owned.voice_url == f"{BASE}/webhooks/twilio/voice/incoming"
    assert owned.sms_url == f"{BASE}/webhooks/twilio/sms/incoming"
    assert owned.status_callback == f"{BASE}/webhooks/twilio/voice/status"
    [row] = proxies(db)
    assert (row.e164, row.country, row.status, row.origin, row.voice, row.sms) == (
        offer.phone_number, "US", "active", "staff", True, True)


def test_buying_a_number_twilio_says_is_gone_makes_no_row(db, simulator):
    offer = provisioning.search(get_gateway(), "US", "local", area_code="212")[0]
    simulator.state.sold_elsewhere.add(offer.phone_number)
    with pytest.raises(Conflict) as refused:
        provisioning.buy(get_gateway(), offer.phone_number, BASE)
    assert (refused.value.key, refused.value.field) == ("conflict.number_unavailable", "phone_number")
    db.session.rollback()
    assert proxies(db) == []


def test_buying_a_number_already_in_the_pool_is_refused_before_twilio(db, simulator):
    make_proxy("+14155550199")
    with pytest.raises(Conflict) as refused:
        provisioning.buy(get_gateway(), "+14155550199", BASE)
    assert refused.value.key == "conflict.in_pool"
    assert simulator.state.find_number("+14155550199") is None


def test_drain_stops_new_bindings_and_keeps_the_old(db):
    proxy = make_proxy("+8613900000001")
    binding = make_binding()
    pool.drain(pool.get_proxy(proxy.id))
    db.session.commit()
    assert proxy.status == "draining" and proxy.retired_at is not None
    assert db.session.get(Binding, binding.id).ended_at is None
    pool.drain(proxy)  # again: nothing changes
    assert proxy.status == "draining"


def test_release_is_refused_with_the_count_while_bindings_are_active(db, simulator):
    offer = provisioning.search(get_gateway(), "CN", "mobile")[0]
    proxy = provisioning.buy(get_gateway(), offer.phone_number, BASE)
    db.session.commit()
    first = make_binding("+8613800138000", "+8613700137000")
    make_binding("+8613800138111", "+8613700137001")
    pool.drain(proxy)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        provisioning.release(get_gateway(), proxy)
    assert (refused.value.key, refused.value.params["count"]) == ("conflict.pool_bindings_active", 2)
    db.session.rollback()
    assert simulator.state.find_number(offer.phone_number) is not None
    assert proxies(db)[0].status == "draining"

    for binding in db.session.scalars(sa.select(Binding)).all():
        end_binding(binding, "test")
    db.session.commit()
    assert first.id
    released = provisioning.release(get_gateway(), pool.get_proxy(proxy.id))
    db.session.commit()
    assert released.status == "released" and released.released_at is not None
    assert simulator.state.find_number(offer.phone_number) is None
    with pytest.raises(Conflict):
        provisioning.release(get_gateway(), released)
    with pytest.raises(Conflict):
        pool.drain(released)


def test_a_released_number_bought_again_is_active_once_more(db, simulator):
    offer = provisioning.search(get_gateway(), "AU", "local")[0]
    proxy = provisioning.buy(get_gateway(), offer.phone_number, BASE)
    provisioning.release(get_gateway(), proxy)
    db.session.commit()
    again = provisioning.buy(get_gateway(), offer.phone_number, BASE)
    db.session.commit()
    assert again.id == proxy.id and again.status == "active" and again.released_at is None


def test_a_number_added_by_hand_is_found_at_twilio_to_release(db, simulator):
    sid = simulator.state.add_incoming_number("+8613900100099")
    proxy = make_proxy("+8613900100099")
    provisioning.release(get_gateway(), proxy)
    db.session.commit()
    assert sid not in simulator.state.numbers and proxy.status == "released"


def test_unknown_ids_are_not_found(db):
    with pytest.raises(NotFound):
        pool.get_proxy(424242)
