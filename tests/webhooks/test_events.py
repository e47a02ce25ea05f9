"""The features emit their events into the outbox in the transaction of the change: callbacks
(end to end through the simulator: scheduled, calling, call.completed, completed), cancels,
complaints, numbers verified and lapsed, bindings ended. No real phone number in any body."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.callbacks.operations import cancel
from registry.complaints.operations import file_by_shopper, resolve
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.masking.allocation import end_binding
from registry.merchants.operations import lapse_expired_verifications
from registry.scheduler import tick
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import WebhookEvent
from registry.webhooks.operations import create_endpoint
from tests.callbacks.conftest import MERCHANT, SHOPPER, callback, phones  # noqa: F401 - fixtures
from tests.factories import (
    bearer,
    make_binding,
    make_client,
    make_merchant,
    make_number,
    make_proxy,
    make_token,
    make_user,
)

REAL_NUMBERS = ("8613800138000", "8613700137000", "13800138000", "13700137000")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0, "RECORD_CALLS": False,
            "WEBHOOK_TIMEOUT_SECONDS": 2, "WEBHOOK_RETRY_SCHEDULE": (0,)}


@pytest.fixture
def everything(app, db, receiver):
    """An endpoint subscribed to every event, on the receiver."""
    client, _ = make_client(scopes=("webhooks",))
    _, secret = create_endpoint(client.id, receiver.url, list(EVENT_TYPES), None, app.config)
    database.session.commit()
    receiver.secrets = [secret]


def events() -> list[tuple[str, dict]]:
    database.session.expire_all()
    rows = database.session.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.id))
    return [(row.type, json.loads(row.body)["data"]) for row in rows]


def assert_no_real_number():
    bodies = " ".join(row.body for row in database.session.scalars(sa.select(WebhookEvent)))
    assert bodies and not any(number in bodies for number in REAL_NUMBERS)


def test_a_callback_end_to_end_is_told_step_by_step(app, db, everything, receiver, phones, callback):  # noqa: F811
    phones.script(MERCHANT, outcome="answer", answer_after=1, digits="1")
    phones.script(SHOPPER, outcome="answer", answer_after=2, hangup_after=30)
    tick(app)
    phones.wait_idle(timeout=15)
    tick(app)  # delivers what the webhooks of the call emitted meanwhile
    types = [t for t, _ in events()]
    assert types[:2] == ["callback.scheduled", "callback.calling"]
    assert types.count("call.completed") == 2 and "callback.completed" in types
    scheduled = events()[0][1]
    assert scheduled["callback_id"] == callback.id and scheduled["order_ref"] == "A-77"
    calls = [data for t, data in events() if t == "call.completed"]
    assert {c["kind"] for c in calls} == {"callback_merchant_leg", "callback_shopper_leg"}
    assert all(c["callback_id"] == callback.id and c["order_ref"] == "A-77" and "*" in c["to"]
               for c in calls)
    assert_no_real_number()
    got = [(r.verified or {}).get("type") for r in receiver.received]
    assert all(r.error is None for r in receiver.received)
    assert sorted(got) == sorted(types)


def test_cancel_and_complaints(app, db, everything, receiver, phones, callback):  # noqa: F811
    from registry.shoppers.models import Shopper

    shopper = database.session.get(Shopper, callback.shopper_id)
    complaint = file_by_shopper(shopper, None, callback.id, "rude", "Call me on +8613700137000")
    database.session.commit()
    staff = make_user("staff")
    resolve(complaint, staff.id, "block_shopper", "Blocked after a review.")
    database.session.commit()
    types = [t for t, _ in events()]
    assert types == ["callback.scheduled", "complaint.created", "callback.canceled", "complaint.resolved"]
    resolved = events()[-1][1]
    assert resolved["action"] == "block_shopper" and resolved["callback_id"] == callback.id
    assert_no_real_number()


def test_a_shopper_cancelling_is_told(app, db, everything, phones, callback):  # noqa: F811
    cancel(callback)
    database.session.commit()
    assert [t for t, _ in events()] == ["callback.scheduled", "callback.canceled"]


def test_numbers_verified_and_lapsed(app, db, client, everything, simulator):
    first = make_merchant(name="First")
    first_number = make_number(first, "+8613800138000", status="verified")
    owner = make_user("merchant")
    store = make_merchant(owner, name="Second")
    headers = bearer(make_token(owner))
    number_id = client.post(f"/api/v1/merchants/{store.id}/numbers", json={"number": "+8613800138000"},
                            headers=headers).json["id"]
    client.post(f"/api/v1/numbers/{number_id}/verification", json={}, headers=headers)
    code = simulator.state.last_code("+8613800138000")
    assert client.post(f"/api/v1/numbers/{number_id}/verification/check", json={"code": code},
                       headers=headers).status_code == 200
    assert [(t, d["number_id"]) for t, d in events()] == [("number.lapsed", first_number.id),
                                                          ("number.verified", number_id)]
    verified = events()[1][1]
    assert verified["merchant_id"] == store.id and "*" in verified["number"]

    from registry.merchants.models import MerchantNumber

    row = database.session.get(MerchantNumber, number_id)
    row.reverify_at = utcnow() - timedelta(days=1)
    database.session.commit()
    assert lapse_expired_verifications() == 1
    database.session.commit()
    assert events()[-1][0] == "number.lapsed" and events()[-1][1]["reason"]
    assert_no_real_number()


def test_a_binding_ending_is_told(app, db, everything):
    make_proxy()
    binding = make_binding()
    end_binding(binding, "ended by the marketplace")
    database.session.commit()
    [(event_type, data)] = events()
    assert event_type == "binding.ended" and data["binding_id"] == binding.id
    assert data["reason"] == "ended by the marketplace"
    assert_no_real_number()


def test_nothing_is_written_without_a_subscriber(app, db):
    make_proxy()
    make_binding()
    from registry.masking.models import Binding

    end_binding(database.session.scalars(sa.select(Binding)).one(), "expired")
    database.session.commit()
    assert events() == []
