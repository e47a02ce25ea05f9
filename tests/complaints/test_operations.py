"""Complaints: filed by a party, refused to outsiders, resolved by staff with an action."""

import pytest

from registry.callbacks.models import CallbackRequest
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.complaints.models import Complaint
from registry.masking.models import Binding
from registry.merchants.models import MerchantNumber
from tests.factories import (
    bearer,
    make_binding,
    make_call_record,
    make_callable_merchant,
    make_proxy,
    make_shopper,
    make_shopper_token,
    make_token,
    make_user,
)

SHOPPER, MERCHANT = "+8613700137000", "+8613800138000"


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def scene(app, db):
    store = make_callable_merchant(MERCHANT)
    shopper = make_shopper(SHOPPER)
    record = make_call_record(store, from_number=MERCHANT, to_number=SHOPPER)
    return store, shopper, record


def complain(client, headers, **body):
    body.setdefault("category", "harassment")
    body.setdefault("text", "They called me five times at night.")
    return client.post("/api/v1/complaints", json=body, headers=headers)


def test_a_shopper_files_about_their_own_call(client, scene, db):
    store, shopper, record = scene
    response = complain(client, bearer(make_shopper_token(shopper)), call_record_id=record.id)
    assert response.status_code == 201 and response.json["merchant_id"] == store.id
    assert response.json["status"] == "open"


def test_a_call_the_filer_was_not_part_of_is_refused(client, scene, db):
    _, _, record = scene
    stranger = bearer(make_shopper_token(make_shopper("+8613600136000")))
    assert complain(client, stranger, call_record_id=record.id).status_code == 404
    assert db.session.query(Complaint).count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"category": "annoying"}, "category"), ({"text": ""}, "text"), ({"text": "x" * 10_240}, "text"),
    ({"call_record_id": "1"}, "call_record_id"), ({}, "call_record_id"),
])
def test_bad_complaints_name_the_field(client, scene, db, body, field):
    _, shopper, record = scene
    body = {"call_record_id": record.id, **body} if "call_record_id" not in body and body != {} else body
    response = complain(client, bearer(make_shopper_token(shopper)), **body)
    assert response.status_code == 422 and response.json["error"]["field"] == field
    assert db.session.query(Complaint).count() == 0


def test_staff_resolve_with_a_suspension_that_takes_effect(client, scene, db, app):
    store, shopper, record = scene
    make_proxy()
    binding = make_binding(MERCHANT, SHOPPER, merchant_id=store.id)
    other = make_shopper("+8613500135000")
    pending = request_callback(other, store.id, "asap", None, None, CallbackPolicy.from_config(app.config))
    db.session.commit()
    filed = complain(client, bearer(make_shopper_token(shopper)), call_record_id=record.id).json
    staff = bearer(make_token(make_user("staff")))
    assert client.get("/api/v1/complaints", headers=staff).json["items"][0]["id"] == filed["id"]
    assert client.post(f"/api/v1/complaints/{filed['id']}/assign", headers=staff).json["status"] == "assigned"
    resolved = client.post(f"/api/v1/complaints/{filed['id']}/resolve", headers=staff,
                           json={"action": "suspend_number", "resolution": "Repeated night calls confirmed."})
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"
    db.session.expire_all()
    assert db.session.query(MerchantNumber).filter_by(merchant_id=store.id).one().status == "suspended"
    assert db.session.get(Binding, binding.id).ended_at is not None
    canceled = db.session.get(CallbackRequest, pending.id)
    assert canceled.status == "canceled" and "suspended" in canceled.reason
    profile = client.get(f"/api/v1/merchants/{store.id}").json
    assert profile["verified"] is False and profile["callback_available"] is False
    # The merchant sees the complaint about it.
    from registry.accounts.models import User

    owner = bearer(make_token(db.session.get(User, store.owner_id)))
    assert [c["id"] for c in client.get("/api/v1/complaints", headers=owner).json["items"]] == [filed["id"]]


def test_block_shopper_stops_their_callbacks(client, scene, db):
    _, shopper, record = scene
    filed = complain(client, bearer(make_shopper_token(shopper)), call_record_id=record.id).json
    staff = bearer(make_token(make_user("staff")))
    client.post(f"/api/v1/complaints/{filed['id']}/resolve", headers=staff,
                json={"action": "block_shopper", "resolution": "False complaints, third time."})
    db.session.expire_all()
    assert db.session.get(type(shopper), shopper.id).blocked_at is not None


def test_only_staff_handle_complaints(client, scene, db):
    store, shopper, record = scene
    filed = complain(client, bearer(make_shopper_token(shopper)), call_record_id=record.id).json
    shopper_token = bearer(make_shopper_token(shopper))
    merchant_token = bearer(make_token(make_user()))
    for headers in (shopper_token, merchant_token):
        response = client.post(f"/api/v1/complaints/{filed['id']}/resolve", headers=headers,
                               json={"action": "none", "resolution": "nothing to see here"})
        assert response.status_code == 403
