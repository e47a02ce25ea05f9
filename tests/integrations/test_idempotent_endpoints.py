"""`Idempotency-Key` on the client API's real POSTs: every one documents the header, and a
retried binding or webhook endpoint is the first one again, never a second."""

from __future__ import annotations

import sqlalchemy as sa

from registry.masking.models import Binding
from registry.webhooks.models import WebhookEndpoint
from tests.factories import bearer, make_callable_merchant, make_client, make_proxy

SHOPPER = "+8613700137000"


def test_every_client_post_documents_the_idempotency_key(client):
    document = client.get("/api/v1/openapi.json").get_json()
    client_posts = [(path, op) for path, item in document["paths"].items()
                    for method, op in item.items()
                    if method == "post" and op["security"] == [{"clientKey": []}]]
    assert len(client_posts) >= 7
    for path, op in client_posts:
        assert "Idempotency-Key" in [p["name"] for p in op["parameters"] if p["in"] == "header"], path


def test_a_retried_binding_is_the_first_one(client, db):
    store = make_callable_merchant("+8613800138000")
    make_proxy("+8613900000001")
    key = make_client(scopes=("bindings",))[1]
    headers = {**bearer(key), "Idempotency-Key": "order-42-bind"}
    body = {"merchant_id": store.id, "shopper_phone": SHOPPER, "order_ref": "42"}

    first = client.post("/api/v1/bindings", json=body, headers=headers)
    again = client.post("/api/v1/bindings", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/bindings", json={**body, "order_ref": "43"}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["reason"] == "idempotency.key_reused"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Binding.id))) == 1


def test_a_retried_webhook_endpoint_is_made_once(client, db):
    key = make_client(scopes=("webhooks",))[1]
    headers = {**bearer(key), "Idempotency-Key": "hook-1"}
    body = {"url": "http://127.0.0.1:9/hook", "events": ["callback.completed"]}
    first = client.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    again = client.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and again.json["secret"] == first.json["secret"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 1
