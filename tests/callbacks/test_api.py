"""Asking for a callback through the API: rules, limits and bad input."""

from datetime import UTC, datetime, timedelta

import pytest

from registry.callbacks.models import CallbackRequest
from tests.factories import (
    bearer,
    make_callable_merchant,
    make_merchant,
    make_number,
    make_shopper,
    make_shopper_token,
    make_token,
    make_user,
)


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def shopper():
    return make_shopper()


@pytest.fixture
def headers(shopper):
    return bearer(make_shopper_token(shopper))


@pytest.fixture
def store():
    return make_callable_merchant()


def ask(client, headers, store_id, **body):
    body.setdefault("when", "asap")
    return client.post(f"/api/v1/merchants/{store_id}/callbacks", json=body, headers=headers)


def count(db):
    return db.session.query(CallbackRequest).count()


def test_asap_request_is_due_now_and_visible_to_its_shopper_and_merchant(client, headers, store, db):
    created = ask(client, headers, store.id, order_ref="A-1234", note="About the green tea")
    assert created.status_code == 201, created.json
    body = created.json
    assert body["status"] == "scheduled" and body["order_ref"] == "A-1234"
    due = datetime.fromisoformat(body["due_at"])
    assert due.tzinfo is not None and abs(due - datetime.now(UTC)) < timedelta(seconds=30)
    assert client.get(f"/api/v1/callbacks/{body['id']}", headers=headers).json["status"] == "scheduled"
    owner = db.session.get(type(store), store.id).owner_id
    from registry.accounts.models import User

    merchant_token = make_token(db.session.get(User, owner))
    assert client.get(f"/api/v1/callbacks/{body['id']}", headers=bearer(merchant_token)).status_code == 200
    staff = make_token(make_user("staff"))
    assert client.get(f"/api/v1/callbacks/{body['id']}", headers=bearer(staff)).status_code == 200


def test_nobody_else_sees_or_cancels_it(client, headers, store, db):
    request_id = ask(client, headers, store.id).json["id"]
    stranger = bearer(make_shopper_token(make_shopper("+8613700137999")))
    from registry.accounts.models import User

    other_store = make_merchant(name="Other")
    other_owner = bearer(make_token(db.session.get(User, other_store.owner_id)))
    assert client.get(f"/api/v1/callbacks/{request_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/callbacks/{request_id}", headers=other_owner).status_code == 404
    assert client.delete(f"/api/v1/callbacks/{request_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/callbacks/{request_id}").status_code == 401
    assert db.session.get(CallbackRequest, request_id).status == "scheduled"


def test_a_slot_request_is_due_at_its_start(client, headers, store):
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    body = ask(client, headers, store.id, when={"start": start.isoformat(),
                                                "end": (start + timedelta(minutes=30)).isoformat()}).json
    assert datetime.fromisoformat(body["due_at"]) == start and body["asap"] is False


def test_one_open_request_per_store_then_409_with_the_existing_one(client, headers, store, db):
    first = ask(client, headers, store.id).json
    again = ask(client, headers, store.id)
    assert again.status_code == 409 and again.json["error"]["id"] == first["id"]
    assert count(db) == 1


def test_at_most_three_open_requests(client, headers, db):
    stores = [make_callable_merchant(f"+86138001380{n:02d}", name=f"S{n}") for n in range(4)]
    for store in stores[:3]:
        assert ask(client, headers, store.id).status_code == 201
    fourth = ask(client, headers, stores[3].id)
    assert fourth.status_code == 429 and fourth.headers["Retry-After"]
    assert fourth.json["error"]["code"] == "too_many_open_requests"
    assert count(db) == 3


def test_cancel_frees_the_pair(client, headers, store, db):
    request_id = ask(client, headers, store.id).json["id"]
    canceled = client.delete(f"/api/v1/callbacks/{request_id}", headers=headers)
    assert canceled.status_code == 200 and canceled.json["status"] == "canceled"
    assert ask(client, headers, store.id).status_code == 201


def test_store_without_verified_number_or_suspended_says_why(client, headers, db):
    unverified = make_merchant(name="New", business_hours=None)
    make_number(unverified)
    refused = ask(client, headers, unverified.id)
    assert refused.status_code == 409 and "verified" in refused.json["error"]["message"]
    suspended = make_callable_merchant("+8613800138777", name="Bad")
    suspended.status = "suspended"
    db.session.commit()
    refused = ask(client, headers, suspended.id)
    assert refused.status_code == 409 and "suspended" in refused.json["error"]["message"]
    assert ask(client, headers, 999999).status_code == 404
    assert count(db) == 0


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ({"start": "2020-01-01T10:00:00+08:00", "end": "2020-01-01T10:30:00+08:00"}, "in_the_past"),
        ({"start": "2030-01-01T10:00:00"}, "invalid"),
        ({"start": "tomorrow"}, "invalid"),
        ({"start": "2030-01-01T10:00:00+08:00", "end": "2030-01-01T09:00:00+08:00"}, "invalid"),
        ("soon", "invalid"),
        (["asap"], "invalid"),
        (42, "invalid"),
        ({"begin": "2030-01-01T10:00:00+08:00"}, "invalid"),
    ],
)
def test_malformed_or_past_when_is_422(client, headers, store, db, when, code):
    response = ask(client, headers, store.id, when=when)
    assert response.status_code == 422 and response.json["error"]["field"] == "when"
    assert response.json["error"]["code"] == code
    assert count(db) == 0


def test_a_slot_outside_business_hours_is_refused(client, headers, db):
    store = make_callable_merchant(hours={"mon": [["09:00", "10:00"]]})
    nowish = datetime.now(UTC) + timedelta(days=1)
    # A 30-minute slot on a day the store is closed (if tomorrow is Monday, use the day after).
    if nowish.astimezone().weekday() in (0, 6):
        nowish += timedelta(days=2)
    response = ask(client, headers, store.id, when={"start": nowish.isoformat(),
                                                    "end": (nowish + timedelta(minutes=30)).isoformat()})
    assert response.status_code == 422 and response.json["error"]["code"] == "outside_hours"


@pytest.mark.parametrize(("field", "value"), [("order_ref", "x" * 65), ("note", "y" * 10_240),
                                              ("order_ref", 12), ("note", ["a"])])
def test_bad_text_fields_are_422(client, headers, store, db, field, value):
    response = ask(client, headers, store.id, **{field: value})
    assert response.status_code == 422 and response.json["error"]["field"] == field
    assert count(db) == 0


def test_no_callback_without_a_proved_number(client, store, db):
    assert ask(client, {}, store.id).status_code == 401
    assert ask(client, bearer("s_forged"), store.id).status_code == 401
    merchant_token = bearer(make_token(make_user()))
    assert ask(client, merchant_token, store.id).status_code == 401
    assert count(db) == 0


def test_blocked_shopper_is_refused(client, headers, shopper, store, db):
    from registry.core.timeutil import utcnow

    shopper.blocked_at = utcnow()
    db.session.commit()
    assert ask(client, headers, store.id).status_code == 403


def test_slots_are_offered_in_the_shoppers_zone(client, headers, store):
    response = client.get(f"/api/v1/merchants/{store.id}/callback-slots", headers=headers)
    assert response.status_code == 200
    assert response.json["shopper_timezone"] == "Asia/Shanghai"
    assert len(response.json["items"]) >= 300  # 7 days of half hours, always open
