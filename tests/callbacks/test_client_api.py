"""Callbacks on a shopper's behalf (`POST /api/v1/callbacks`, scope `callbacks`): the rules of
a shopper's own request, the shopper vouched for by the client, and only that client reads or
cancels it; the shopper's and merchant's routes keep working."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.callbacks.models import CallbackRequest
from registry.core.timeutil import utcnow
from registry.integrations import operations as integrations
from registry.shoppers.models import Shopper
from tests.factories import (
    bearer,
    make_callable_merchant,
    make_client,
    make_merchant,
    make_number,
    make_shopper,
    make_shopper_token,
)

SHOPPER = "+8613700137000"
CALLBACKS = "/api/v1/callbacks"
DROP = object()
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def store(app):
    return make_callable_merchant()


@pytest.fixture
def key(app):
    return make_client("Shop A", scopes=("callbacks",))[1]


def ask(client, key, **body):
    return client.post(CALLBACKS, json=body, headers=bearer(key))


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(CallbackRequest.id)))


def test_a_client_asks_for_a_callback_as_a_shopper_would(client, db, store, key):
    response = ask(client, key, merchant_id=store.id, shopper_phone=SHOPPER, when="asap", order_ref="A-42",
                   note="About the green tea")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "scheduled" and body["order_ref"] == "A-42" and body["asap"] is True
    assert body["merchant_id"] == store.id and body["attempts"] == []
    assert SHOPPER[1:] not in response.get_data(as_text=True)
    db.session.expire_all()
    request = db.session.get(CallbackRequest, body["id"])
    client_id = integrations.authenticate(key).id
    assert request.client_id == client_id
    shopper = db.session.get(Shopper, request.shopper_id)
    assert shopper.phone == SHOPPER and shopper.asserted_by_client_id == client_id
    # The same JSON as the shopper's own request shows, to the client and to the shopper.
    shown = client.get(f"{CALLBACKS}/{body['id']}", headers=bearer(key))
    assert shown.status_code == 200 and shown.json == body
    as_shopper = client.get(f"{CALLBACKS}/{body['id']}", headers=bearer(make_shopper_token(shopper)))
    assert as_shopper.status_code == 200 and as_shopper.json["id"] == body["id"]


def test_an_existing_shopper_is_used_as_is(client, db, store, key):
    shopper = make_shopper(SHOPPER)
    response = ask(client, key, merchant_external_id=None, merchant_id=store.id, shopper_phone="13700137000")
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(CallbackRequest, response.json["id"]).shopper_id == shopper.id
    assert db.session.get(Shopper, shopper.id).asserted_by_client_id is None


def test_the_store_by_external_id_and_a_slot(client, db, store):
    row, key = make_client("Shop B", scopes=("callbacks",))
    store.client_id, store.external_id = row.id, "S-1"
    db.session.commit()
    start = (utcnow().replace(microsecond=0)).isoformat()
    response = ask(client, key, merchant_external_id="S-1", shopper_phone=SHOPPER, when={"start": start})
    assert response.status_code == 201 and response.json["asap"] is False


def test_the_shoppers_rules_apply(app, client, db, store, key):
    assert ask(client, key, merchant_id=store.id, shopper_phone=SHOPPER).status_code == 201
    duplicate = ask(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert duplicate.status_code == 409 and duplicate.json["error"]["code"] == "duplicate_request"
    app.config["CALLBACK_MAX_OPEN_PER_SHOPPER"] = 2
    second = make_callable_merchant("+8613800138001", name="Second")
    assert ask(client, key, merchant_id=second.id, shopper_phone=SHOPPER).status_code == 201
    third = make_callable_merchant("+8613800138002", name="Third")
    limited = ask(client, key, merchant_id=third.id, shopper_phone=SHOPPER)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "too_many_open_requests"
    closed = make_merchant(name="Closed", business_hours={day: [] for day in WEEK})
    make_number(closed, "+8613800138003", status="verified")
    refused = ask(client, key, merchant_id=closed.id, shopper_phone="+8613700137009")
    assert refused.status_code == 409 and refused.json["error"]["reason"] == "callback_unavailable.no_hours"
    assert count(db) == 2


def test_a_blocked_shopper_stays_refused(client, db, store, key):
    shopper = make_shopper(SHOPPER)
    shopper.blocked_at = utcnow()
    db.session.commit()
    response = ask(client, key, merchant_id=store.id, shopper_phone=SHOPPER)
    assert response.status_code == 403 and response.json["error"]["code"] == "shopper_blocked"
    assert count(db) == 0


@pytest.mark.parametrize("body, status, reason, field", [
    ({"merchant_id": 999999}, 404, "not_found.store", None),
    ({"merchant_id": DROP, "merchant_external_id": "nope"}, 404, "not_found.store_external_id",
     "merchant_external_id"),
    ({"merchant_id": DROP}, 422, "required.merchant_reference", "merchant_id"),
    ({"merchant_external_id": "store-7"}, 422, "required.merchant_reference", "merchant_id"),
    ({"shopper_phone": "1-800-FLOWERS"}, 422, "invalid_characters", "shopper_phone"),
    ({"shopper_phone": "+1 900 555 0100"}, 422, "refused_number_type", "shopper_phone"),
    ({"shopper_phone": "+86 100 0000 0000"}, 422, "invalid_phone.not_in_plan", "shopper_phone"),
    ({"shopper_phone": DROP}, 422, "required", "shopper_phone"),
    ({"when": "tomorrow"}, 422, "invalid.when_shape", "when"),
    ({"when": {"start": "2020-01-01T10:00:00+08:00"}}, 422, "in_the_past", "when"),
    ({"order_ref": "x" * 65}, 422, "too_long.order_ref", "order_ref"),
    ({"order_ref": 42}, 422, "invalid_type", "order_ref"),
    ({"shopper": SHOPPER}, 422, "unknown_field", "shopper"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_made(client, db, store, key, body, status,
                                                                   reason, field):
    request = {"merchant_id": store.id, "shopper_phone": SHOPPER, "when": "asap", **body}
    response = ask(client, key, **{name: value for name, value in request.items() if value is not DROP})
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["reason"] == reason and (field is None or error["field"] == field), error
    assert count(db) == 0
    assert db.session.scalar(sa.select(sa.func.count(Shopper.id))) == 0


def test_only_the_client_that_asked_reads_or_cancels_it(client, db, store, key):
    made = ask(client, key, merchant_id=store.id, shopper_phone=SHOPPER).json
    _, other = make_client("Shop B", scopes=("callbacks",))
    for method in ("GET", "DELETE"):
        response = client.open(f"{CALLBACKS}/{made['id']}", method=method, headers=bearer(other))
        assert response.status_code == 404 and response.json["error"]["reason"] == "not_found.callback"
    _, bindings_only = make_client("Bindings", scopes=("bindings",))
    for response in (ask(client, bindings_only, merchant_id=store.id, shopper_phone="+8613700137001"),
                     client.get(f"{CALLBACKS}/{made['id']}", headers=bearer(bindings_only)),
                     client.delete(f"{CALLBACKS}/{made['id']}", headers=bearer(bindings_only))):
        assert response.status_code == 403 and response.json["error"]["scope"] == "callbacks"
    row, revoked = make_client("Gone", scopes=("callbacks",))
    integrations.revoke_client(row.id)
    db.session.commit()
    assert ask(client, revoked, merchant_id=store.id, shopper_phone="+8613700137001").status_code == 401
    assert client.post(CALLBACKS, json={"merchant_id": store.id}).status_code == 401
    canceled = client.delete(f"{CALLBACKS}/{made['id']}", headers=bearer(key))
    assert canceled.status_code == 200 and canceled.json["status"] == "canceled"
    assert canceled.json["reason"] == "canceled by the client"


def test_a_shoppers_own_request_is_not_a_clients(client, db, store, key):
    shopper = make_shopper(SHOPPER)
    token = make_shopper_token(shopper)
    own = client.post(f"/api/v1/merchants/{store.id}/callbacks", json={"when": "asap"}, headers=bearer(token))
    assert own.status_code == 201
    assert client.get(f"{CALLBACKS}/{own.json['id']}", headers=bearer(key)).status_code == 404
    assert client.delete(f"{CALLBACKS}/{own.json['id']}", headers=bearer(key)).status_code == 404
    assert client.delete(f"{CALLBACKS}/{own.json['id']}").status_code == 401
    canceled = client.delete(f"{CALLBACKS}/{own.json['id']}", headers=bearer(token))
    assert canceled.status_code == 200 and canceled.json["reason"] == "canceled by the shopper"
