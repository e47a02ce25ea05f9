"""`WEBHOOK_AUDIENCE`: every subscriber hears every event (`all`, the default), or only the clients
owning what it is about (`owner`): the store a client imported, the binding or callback it made.
Events no client owns still reach every subscriber."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.calllog.recordings import StoredRecording
from registry.core.config import ConfigError, load_config
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.masking import capacity, pool
from registry.merchants.operations import lapse_expired_verifications
from registry.telephony import get_gateway
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import WebhookDelivery
from registry.webhooks.operations import create_endpoint
from registry.webhooks.recordings import recording_ready
from tests.factories import bearer, make_call_record, make_client, make_merchant, make_number, make_proxy

SHOPPER = "+8613700137000"


@pytest.fixture
def app_overrides():
    return {"WEBHOOK_AUDIENCE": "owner"}


@pytest.fixture
def two_clients(app, db):
    """Clients A and B (keys with every scope), each with an endpoint hearing every event."""
    found = {}
    for name in ("A", "B"):
        row, key = make_client(name=f"Marketplace {name}", scopes=("bindings", "callbacks", "webhooks"))
        url = f"http://127.0.0.1:9/{name}"
        endpoint, _ = create_endpoint(row.id, url, list(EVENT_TYPES), None, app.config)
        found[name] = (row, key, endpoint.id)
    database.session.commit()
    return found


def heard(event_type: str, two_clients) -> list[str]:
    """Which of the clients got a delivery of `event_type`."""
    database.session.expire_all()
    endpoints = set(database.session.scalars(sa.select(WebhookDelivery.endpoint_id)
                                             .where(WebhookDelivery.event_type == event_type)))
    return [name for name, (_, _, endpoint_id) in two_clients.items() if endpoint_id in endpoints]


def test_a_binding_a_client_made_is_told_to_that_client_only(app, client, db, two_clients):
    store = make_merchant()  # signed up by itself: no client owns it
    make_number(store, "+8613800138000", status="verified")
    make_proxy()
    _, key_a, _ = two_clients["A"]
    made = client.post("/api/v1/bindings", json={"merchant_id": store.id, "shopper_phone": SHOPPER},
                       headers=bearer(key_a))
    assert made.status_code == 201, made.json
    assert client.delete(f"/api/v1/bindings/{made.json['id']}", headers=bearer(key_a)).status_code == 204
    assert heard("binding.ended", two_clients) == ["A"]


def test_a_recording_of_a_call_through_a_client_s_binding_goes_to_that_client(
        app, client, db, two_clients):
    """`recording.ready` (and `complaint.*`) name the call leg, not the binding: the leg stands for it."""
    store = make_merchant()
    make_number(store, "+8613800138000", status="verified")
    make_proxy()
    made = client.post("/api/v1/bindings", json={"merchant_id": store.id, "shopper_phone": SHOPPER},
                       headers=bearer(two_clients["A"][1]))
    record = make_call_record(store)
    record.binding_id = made.json["id"]
    database.session.commit()
    recording_ready(StoredRecording(record.id, record.call_sid, store.id, None, 10, "RE" + "0" * 32,
                                    "0" * 64, 10, utcnow()))
    database.session.commit()
    assert heard("recording.ready", two_clients) == ["A"]


def test_a_store_a_client_imported_is_told_to_that_client_only(app, db, two_clients):
    owner_b = two_clients["B"][0]
    store = make_merchant(client_id=owner_b.id, external_id="shop-1")
    number = make_number(store, "+8613800138000", status="verified")
    number.reverify_at = utcnow() - timedelta(minutes=1)
    database.session.commit()
    assert lapse_expired_verifications() == 1
    database.session.commit()
    assert heard("number.lapsed", two_clients) == ["B"]


def test_what_no_client_owns_is_told_to_every_subscriber(app, db, two_clients):
    store = make_merchant()
    number = make_number(store, "+8613800138000", status="verified")
    number.reverify_at = utcnow() - timedelta(minutes=1)
    pool.drain(make_proxy("+8613900000001"))
    database.session.commit()
    lapse_expired_verifications()
    capacity.check_pool(get_gateway(), {**app.config, "POOL_AUTO_BUY_MAX": 0})
    database.session.commit()
    assert heard("number.lapsed", two_clients) == ["A", "B"]
    assert heard("pool.low", two_clients) == ["A", "B"]


@pytest.mark.parametrize("app_overrides", [{}])
def test_by_default_every_subscriber_hears_every_event(app, client, db, two_clients, app_overrides):
    assert app.config["WEBHOOK_AUDIENCE"] == "all"
    store = make_merchant(client_id=two_clients["B"][0].id, external_id="shop-1")
    number = make_number(store, "+8613800138000", status="verified")
    number.reverify_at = utcnow() - timedelta(minutes=1)
    database.session.commit()
    lapse_expired_verifications()
    database.session.commit()
    assert heard("number.lapsed", two_clients) == ["A", "B"]


def test_an_unknown_audience_is_refused_at_start(tmp_path):
    with pytest.raises(ConfigError, match="WEBHOOK_AUDIENCE must be one of all, owner"):
        load_config(tmp_path, {"REGISTRY_ENV": "testing", "WEBHOOK_AUDIENCE": "some"})
