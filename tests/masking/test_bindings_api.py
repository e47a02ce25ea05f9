"""Bindings by order through the client API (`/api/v1/bindings`): made by the one allocation
operation, owned by the client that asked, listed, ended; every bad input a clear 4xx."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from registry.core.timeutil import utcnow
from registry.integrations import operations as integrations
from registry.masking.models import Binding, ProxyNumber
from registry.masking.routing import decide
from registry.shoppers.models import Shopper
from tests.factories import (
    bearer,
    make_binding,
    make_callable_merchant,
    make_client,
    make_merchant,
    make_number,
    make_proxy,
    make_shopper,
)

MERCHANT, SHOPPER, OTHER_SHOPPER = "+8613800138000", "+8613700137000", "+8613700137001"
PROXIES = ("+8613900000001", "+8613900000002", "+8613900000003")
BINDINGS = "/api/v1/bindings"
DROP = object()


@pytest.fixture
def store(app):
    return make_callable_merchant(MERCHANT)


@pytest.fixture
def pool(app):
    return [make_proxy(e164) for e164 in PROXIES]


@pytest.fixture
def key(app):
    return make_client("Shop A", scopes=("bindings",))[1]


def bind(client, key, **body):
    return client.post(BINDINGS, json=body, headers=bearer(key))


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Binding.id)))


def test_a_client_binds_a_shopper_and_a_store_for_an_order(client, db, store, pool, key):
    response = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, order_ref="A-42", ttl_hours=5)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["proxy_number"] == PROXIES[0] and body["extension"] is None
    assert body["merchant_id"] == store.id and body["order_ref"] == "A-42" and body["status"] == "active"
    assert body["shopper_phone"] == "+86 137****7000"
    assert SHOPPER[1:] not in response.get_data(as_text=True)  # the real number is never answered
    expires = datetime.fromisoformat(body["expires_at"])
    assert abs(expires - (utcnow() + timedelta(hours=5))) < timedelta(seconds=30)
    assert body["ended_at"] is None and body["end_reason"] is None
    db.session.expire_all()
    row = db.session.get(Binding, body["id"])
    client_id = integrations.authenticate(key).id
    assert (row.client_id, row.order_ref, row.party_a, row.party_b) == (client_id, "A-42", MERCHANT, SHOPPER)
    assert db.session.get(ProxyNumber, row.proxy_number_id).active_bindings == 1
    # The shopper calling the proxy number reaches the store.
    assert decide(PROXIES[0], SHOPPER).connect_to == MERCHANT


def test_the_same_pair_again_is_200_with_the_same_binding_its_expiry_extended(client, db, store, pool, key):
    first = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, ttl_hours=1).json
    again = bind(client, key, merchant_id=store.id, shopper_phone="137 0013 7000", ttl_hours=48,
                 order_ref="A-43")
    assert again.status_code == 200, again.json
    assert (again.json["id"], again.json["proxy_number"]) == (first["id"], first["proxy_number"])
    assert datetime.fromisoformat(again.json["expires_at"]) > datetime.fromisoformat(first["expires_at"]) \
        + timedelta(hours=40)
    assert again.json["order_ref"] == "A-43"
    assert count(db) == 1
    # Another shopper gets the next number (first fit: the store already uses the first).
    other = bind(client, key, merchant_id=store.id, shopper_phone=OTHER_SHOPPER)
    assert other.status_code == 201 and other.json["proxy_number"] == PROXIES[1]


def test_the_store_is_named_by_the_clients_external_id(client, db, store, pool):
    row, key = make_client("Shop B", scopes=("bindings",))
    store.client_id, store.external_id = row.id, "store-7"
    db.session.commit()
    response = bind(client, key, merchant_external_id="store-7", shopper_phone=SHOPPER)
    assert response.status_code == 201 and response.json["merchant_id"] == store.id


def test_a_binding_made_for_a_callback_is_taken_over_by_the_first_client(client, db, store, pool, key):
    platform = make_binding(MERCHANT, SHOPPER, merchant_id=store.id)
    response = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, order_ref="A-1")
    assert response.status_code == 200 and response.json["id"] == platform.id
    assert client.get(f"{BINDINGS}/{platform.id}", headers=bearer(key)).status_code == 200


def test_a_pair_another_client_holds_is_409_and_nothing_changes(client, db, store, pool, key):
    first = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, ttl_hours=1).json
    _, other_key = make_client("Shop B", scopes=("bindings",))
    response = bind(client, other_key, merchant_id=store.id, shopper_phone=SHOPPER, ttl_hours=100)
    assert response.status_code == 409
    assert response.json["error"]["reason"] == "conflict.binding_other_client"
    db.session.expire_all()
    assert abs(db.session.get(Binding, first["id"]).expires_at.replace(tzinfo=None)
               - datetime.fromisoformat(first["expires_at"]).replace(tzinfo=None)) < timedelta(seconds=1)


@pytest.mark.parametrize("body, status, reason, field", [
    ({"merchant_id": 999999}, 404, "not_found.store", None),
    ({"merchant_id": DROP, "merchant_external_id": "nope"}, 404, "not_found.store_external_id",
     "merchant_external_id"),
    ({"merchant_id": DROP}, 422, "required.merchant_reference", "merchant_id"),
    ({"merchant_external_id": "store-7"}, 422, "required.merchant_reference", "merchant_id"),
    ({"shopper_phone": DROP}, 422, "required", "shopper_phone"),
    ({"merchant_id": "STORE", "merchant_external_id": "x"}, 422, "invalid_type.integer", "merchant_id"),
    ({"merchant_id": 2**40}, 422, "invalid.too_large", "merchant_id"),
    ({"shopper_phone": "1-800-FLOWERS"}, 422, "invalid_characters", "shopper_phone"),
    ({"shopper_phone": "+1 900 555 0100"}, 422, "refused_number_type", "shopper_phone"),
    ({"shopper_phone": "+86 123"}, 422, "impossible_number.too_short", "shopper_phone"),
    ({"shopper_phone": "+86 100 0000 0000"}, 422, "invalid_phone.not_in_plan", "shopper_phone"),
    ({"shopper_phone": None}, 422, "invalid_type", "shopper_phone"),
    ({"shopper_phone": MERCHANT}, 422, "invalid.shopper_is_store", "shopper_phone"),
    ({"ttl_hours": 0}, 422, "invalid.too_small", "ttl_hours"),
    ({"ttl_hours": -3}, 422, "invalid.too_small", "ttl_hours"),
    ({"ttl_hours": 721}, 422, "invalid.too_large", "ttl_hours"),
    ({"ttl_hours": 1.5}, 422, "invalid_type.integer", "ttl_hours"),
    ({"ttl_hours": True}, 422, "invalid_type.integer", "ttl_hours"),
    ({"ttl_hours": "5"}, 422, "invalid_type.integer", "ttl_hours"),
    ({"merchant_id": "1"}, 422, "invalid_type.integer", "merchant_id"),
    ({"order_ref": "   "}, 422, "required.not_empty", "order_ref"),
    ({"merchant_id": DROP, "merchant_external_id": "  "}, 422, "required.not_empty", "merchant_external_id"),
    ({"order_ref": "x" * 65}, 422, "too_long", "order_ref"),
    ({"ttl_hour": 5}, 422, "unknown_field", "ttl_hour"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_made(client, db, store, pool, key, body,
                                                                   status, reason, field):
    request = {"merchant_id": store.id, "shopper_phone": SHOPPER, **body}
    request = {name: value for name, value in request.items() if value is not DROP}
    response = bind(client, key, **request)
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["reason"] == reason and (field is None or error["field"] == field), error
    assert count(db) == 0
    assert db.session.scalar(sa.select(sa.func.sum(ProxyNumber.active_bindings))) == 0


def test_ttl_hours_above_the_configured_max_is_refused_with_the_max(app, client, db, store, pool, key):
    app.config["BINDING_MAX_TTL_HOURS"] = 24
    response = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, ttl_hours=25)
    assert response.status_code == 422 and response.json["error"]["limit"] == 24
    assert "24" in response.json["error"]["message"]
    assert bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER, ttl_hours=24).status_code == 201


def test_a_store_without_a_verified_number_or_suspended_is_409_saying_why(client, db, pool, key):
    unverified = make_merchant(name="New shop")
    make_number(unverified, "+8613800138111")
    response = bind(client, key, merchant_id=unverified.id, shopper_phone=SHOPPER)
    assert response.status_code == 409
    assert response.json["error"]["reason"] == "binding_unavailable.no_verified_number"
    suspended = make_callable_merchant("+8613800138222", name="Closed shop")
    suspended.status = "suspended"
    db.session.commit()
    response = bind(client, key, merchant_id=suspended.id, shopper_phone=SHOPPER)
    assert response.status_code == 409
    assert response.json["error"]["reason"] == "binding_unavailable.store_suspended"
    number_off = make_merchant(name="Number off")
    make_number(number_off, "+8613800138333", status="suspended")
    response = bind(client, key, merchant_id=number_off.id, shopper_phone=SHOPPER)
    assert response.json["error"]["reason"] == "binding_unavailable.number_suspended"
    assert count(db) == 0


def test_an_exhausted_pool_is_503_with_retry_after(client, db, store, key):
    response = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert response.status_code == 503 and response.json["error"]["code"] == "pool_exhausted"
    assert response.headers["Retry-After"] == "60"


def test_a_blocked_shopper_is_refused(client, db, store, pool, key):
    shopper = make_shopper(SHOPPER)
    shopper.blocked_at = utcnow()
    db.session.commit()
    response = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert response.status_code == 403 and response.json["error"]["code"] == "shopper_blocked"
    assert count(db) == 0


def test_keys_scopes_and_owners(client, db, store, pool, key):
    made = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER).json
    assert client.post(BINDINGS, json={}).status_code == 401
    row, revoked = make_client("Gone", scopes=("bindings",))
    integrations.revoke_client(row.id)
    db.session.commit()
    response = bind(client, revoked, merchant_id=store.id, shopper_phone=OTHER_SHOPPER)
    assert response.status_code == 401
    assert response.json["error"]["reason"] == "unauthorized.client_key_invalid"
    _, callbacks_only = make_client("Callbacks", scopes=("callbacks",))
    for response in (bind(client, callbacks_only, merchant_id=store.id, shopper_phone=OTHER_SHOPPER),
                     client.get(f"{BINDINGS}/{made['id']}", headers=bearer(callbacks_only)),
                     client.get(BINDINGS, headers=bearer(callbacks_only))):
        assert response.status_code == 403 and response.json["error"]["scope"] == "bindings"
    _, other = make_client("Shop B", scopes=("bindings",))
    for method in ("GET", "DELETE"):
        response = client.open(f"{BINDINGS}/{made['id']}", method=method, headers=bearer(other))
        assert response.status_code == 404 and response.json["error"]["reason"] == "not_found.binding"
    assert client.get(BINDINGS, headers=bearer(other)).json == {"items": [], "next": None}
    assert count(db) == 1 and db.session.get(Binding, made["id"]).ended_at is None


def test_list_filters_and_pages(client, db, store, pool, key):
    second_store = make_callable_merchant("+8613800138999", name="Second")
    made = [bind(client, key, merchant_id=store.id, shopper_phone=f"+86137001370{n:02d}",
                 order_ref=f"A-{n % 2}").json for n in range(3)]
    made.append(bind(client, key, merchant_id=second_store.id, shopper_phone=SHOPPER, order_ref="B").json)
    headers = bearer(key)
    listed = client.get(BINDINGS, headers=headers).json
    assert [b["id"] for b in listed["items"]] == [b["id"] for b in reversed(made)] and listed["next"] is None
    assert {b["id"] for b in client.get(f"{BINDINGS}?order_ref=A-0", headers=headers).json["items"]} \
        == {made[0]["id"], made[2]["id"]}
    assert [b["id"] for b in client.get(f"{BINDINGS}?merchant_id={second_store.id}",
                                        headers=headers).json["items"]] == [made[3]["id"]]
    assert client.delete(f"{BINDINGS}/{made[1]['id']}", headers=headers).status_code == 204
    ended = client.get(f"{BINDINGS}?status=ended", headers=headers).json["items"]
    assert [b["id"] for b in ended] == [made[1]["id"]] and ended[0]["end_reason"] == "ended by client"
    assert len(client.get(f"{BINDINGS}?status=active", headers=headers).json["items"]) == 3
    page = client.get(f"{BINDINGS}?per_page=3", headers=headers).json
    assert len(page["items"]) == 3 and page["next"]
    rest = client.get(f"{BINDINGS}?per_page=3&cursor={page['next']}", headers=headers).json
    assert [b["id"] for b in rest["items"]] == [made[0]["id"]] and rest["next"] is None
    for query, field in (("cursor=nonsense", "cursor"), ("status=gone", "status"),
                         ("per_page=0", "per_page"), ("merchant_id=abc", "merchant_id"),
                         ("per_page=1000", "per_page")):
        response = client.get(f"{BINDINGS}?{query}", headers=headers)
        assert response.status_code == 422 and response.json["error"]["field"] == field, query


def test_delete_ends_the_binding_and_frees_its_slot(client, db, store, pool, key):
    made = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER).json
    response = client.delete(f"{BINDINGS}/{made['id']}", headers=bearer(key))
    assert response.status_code == 204 and response.get_data() == b""
    shown = client.get(f"{BINDINGS}/{made['id']}", headers=bearer(key)).json
    assert shown["status"] == "ended" and shown["end_reason"] == "ended by client" and shown["ended_at"]
    again = client.delete(f"{BINDINGS}/{made['id']}", headers=bearer(key))
    assert again.status_code == 204  # ending an ended binding is no error
    db.session.expire_all()
    proxy_id = db.session.get(Binding, made["id"]).proxy_number_id
    assert db.session.get(ProxyNumber, proxy_id).active_bindings == 0
    decision = decide(PROXIES[0], SHOPPER)
    assert decision.action == "refuse" and decision.reason == "no active binding for this caller"
    # Asked for again, the pair gets a new binding.
    again = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert again.status_code == 201 and again.json["id"] != made["id"]


def test_no_shopper_row_is_made_for_a_binding(client, db, store, pool, key):
    bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert db.session.scalar(sa.select(sa.func.count(Shopper.id))) == 0


def test_after_delete_a_call_from_the_shopper_is_intercepted_and_logged(client, db, store, key,
                                                                        live_server, fast_calls):
    from registry.calllog.models import CallRecord
    from registry.masking.pool import sync_with_provider
    from registry.telephony import get_gateway

    fast_calls.add_incoming_number(PROXIES[0])
    make_proxy(PROXIES[0])
    sync_with_provider(get_gateway(), live_server)
    db.session.commit()
    made = bind(client, key, merchant_id=store.id, shopper_phone=SHOPPER).json
    fast_calls.script(MERCHANT, outcome="answer", answer_after=1, hangup_after=2)
    before = fast_calls.start_inbound_call(SHOPPER, PROXIES[0])
    assert fast_calls.wait_for_call(before, timeout=10).children  # connected while bound
    fast_calls.wait_idle(timeout=10)
    assert client.delete(f"{BINDINGS}/{made['id']}", headers=bearer(key)).status_code == 204
    after = fast_calls.start_inbound_call(SHOPPER, PROXIES[0])
    call = fast_calls.wait_for_call(after, timeout=10)
    assert not call.children and any("无法" in text for text in call.heard)
    db.session.expire_all()
    record = db.session.query(CallRecord).filter_by(call_sid=after).one()
    assert record.kind == "intercepted" and record.binding_id is None


def test_a_cursor_of_another_list_is_refused_naming_it(client, db, store, pool, key):
    from registry.core import cursors

    for n in range(3):
        bind(client, key, merchant_id=store.id, shopper_phone=f"+86137001370{n:02d}")
    first = client.get(BINDINGS, query_string={"per_page": 2}, headers=bearer(key)).json
    assert first["next"] is not None
    deliveries_cursor = cursors.encode("d", cursors.decode("b", first["next"]))
    answer = client.get(BINDINGS, query_string={"cursor": deliveries_cursor}, headers=bearer(key))
    assert answer.status_code == 422
    assert (answer.json["error"]["reason"], answer.json["error"]["field"]) == ("invalid.cursor", "cursor")
