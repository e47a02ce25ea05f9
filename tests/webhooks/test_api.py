"""The client API of webhook endpoints: create (secret once), list, get, change, delete, test,
rotate, the delivery log and a retry; bad input is a 422 naming the field; another client's
endpoint is not found; production refuses plain http and private addresses."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.core.extensions import db as database
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import bearer, make_client

BASE = "/api/v1/webhook-endpoints"


@pytest.fixture
def key(db):
    return make_client(scopes=("webhooks",))[1]


def create(client, key, **body):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["callback.completed"], **body}
    return client.post(BASE, json=body, headers=bearer(key))


def test_create_shows_the_secret_once_and_stores_it_encrypted(client, key, db):
    answer = create(client, key, description="orders", events=["callback.completed", "call.completed"])
    assert answer.status_code == 201, answer.json
    secret = answer.json["secret"]
    assert secret.startswith("whsec_") and answer.json["enabled"] is True
    assert answer.json["events"] == ["callback.completed", "call.completed"]
    stored = database.session.execute(sa.text("SELECT secret FROM webhook_endpoints")).scalar_one()
    assert secret not in stored and secret[6:] not in stored

    endpoint_id = answer.json["id"]
    one = client.get(f"{BASE}/{endpoint_id}", headers=bearer(key))
    assert one.status_code == 200 and "secret" not in one.json
    listed = client.get(BASE, headers=bearer(key))
    assert [e["id"] for e in listed.json["items"]] == [endpoint_id] and listed.json["next"] is None
    assert "secret" not in listed.json["items"][0]


@pytest.mark.parametrize("body, field, reason", [
    ({"url": "ftp://example.com/hook"}, "url", "invalid.webhook_url"),
    ({"url": "/relative/hook"}, "url", "invalid.webhook_url"),
    ({"url": "http://user:pw@example.com/"}, "url", "invalid.webhook_url_credentials"),
    ({"events": ["callback.exploded"]}, "events", "invalid.webhook_event"),
    ({"events": []}, "events", "required.not_empty"),
    ({"events": "callback.completed"}, "events", "invalid_type.list"),
    ({"surprise": 1}, "surprise", "unknown_field"),
    ({"events": ["callback.completed"] * 51}, "events", "invalid.too_many"),
    ({"url": "http://[::1"}, "url", "invalid.webhook_url"),
    ({"url": "http://exa mple.com/hook"}, "url", "invalid.webhook_url"),
    ({"url": "http://example.com:99999/hook"}, "url", "invalid.webhook_url"),
    ({"description": "   "}, "description", "required.not_empty"),
])
def test_bad_input_is_refused_naming_the_field(client, key, db, body, field, reason):
    answer = create(client, key, **body)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["field"] == field and answer.json["error"]["reason"] == reason
    assert database.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_unknown_event_names_it_and_lists_the_events(client, key, db):
    answer = create(client, key, events=["callback.completed", "nope"])
    assert "nope" in answer.json["error"]["message"] and "binding.ended" in answer.json["error"]["message"]


def test_change_delete_and_another_clients_endpoint(client, key, db):
    endpoint_id = create(client, key).json["id"]
    other = make_client("Shop B", scopes=("webhooks",))[1]
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "/test"),
                         ("post", "/rotate-secret"), ("get", "/deliveries")]:
        answer = getattr(client, method)(f"{BASE}/{endpoint_id}{path}", json={} if method != "get" else None,
                                         headers=bearer(other))
        assert answer.status_code == 404, (method, path, answer.json)
        assert answer.json["error"]["reason"] == "not_found.webhook_endpoint"

    changed = client.patch(f"{BASE}/{endpoint_id}", headers=bearer(key),
                           json={"url": "http://127.0.0.1:9/other", "events": ["binding.ended"],
                                 "enabled": False})
    assert changed.status_code == 200, changed.json
    assert changed.json["url"].endswith("/other") and changed.json["events"] == ["binding.ended"]
    assert changed.json["enabled"] is False
    refused = client.patch(f"{BASE}/{endpoint_id}", headers=bearer(key), json={"events": []})
    assert refused.status_code == 422 and refused.json["error"]["field"] == "events"

    client.post(f"{BASE}/{endpoint_id}/test", headers=bearer(key))
    assert client.delete(f"{BASE}/{endpoint_id}", headers=bearer(key)).status_code == 204
    assert client.get(f"{BASE}/{endpoint_id}", headers=bearer(key)).status_code == 404
    assert database.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


def test_needs_the_webhooks_scope(client, db):
    key = make_client(scopes=("bindings",))[1]
    answer = client.get(BASE, headers=bearer(key))
    assert answer.status_code == 403 and answer.json["error"]["scope"] == "webhooks"
    assert client.get(BASE).status_code == 401


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_a_while(client, key, db):
    created = create(client, key).json
    rotated = client.post(f"{BASE}/{created['id']}/rotate-secret", headers=bearer(key))
    assert rotated.status_code == 200, rotated.json
    assert rotated.json["secret"].startswith("whsec_") and rotated.json["secret"] != created["secret"]
    assert rotated.json["previous_secret_expires_at"] is not None


def test_deliveries_are_paged_and_a_pending_one_cannot_be_retried(client, key, db):
    endpoint_id = create(client, key).json["id"]
    ids = [client.post(f"{BASE}/{endpoint_id}/test", headers=bearer(key)).json["id"] for _ in range(3)]
    first = client.get(f"{BASE}/{endpoint_id}/deliveries?per_page=2", headers=bearer(key))
    assert first.status_code == 200, first.json
    assert [d["id"] for d in first.json["items"]] == ids[::-1][:2]
    assert first.json["items"][0]["event_type"] == "ping"
    assert first.json["items"][0]["webhook_id"].startswith("msg_")
    second = client.get(f"{BASE}/{endpoint_id}/deliveries?per_page=2&cursor={first.json['next']}",
                        headers=bearer(key))
    assert [d["id"] for d in second.json["items"]] == ids[:1] and second.json["next"] is None
    for cursor in ("abc", "²", "1²", "-1", "0", str(ids[0]), "99999999999999999"):  # "²".isdigit()
        bad = client.get(f"{BASE}/{endpoint_id}/deliveries", query_string={"cursor": cursor},
                         headers=bearer(key))
        assert bad.status_code == 422 and bad.json["error"]["field"] == "cursor", (cursor, bad.json)

    retry = client.post(f"/api/v1/webhook-deliveries/{ids[0]}/retry", headers=bearer(key))
    assert retry.status_code == 409 and retry.json["error"]["reason"] == "conflict.webhook_delivery_pending"
    other = make_client("Shop B", scopes=("webhooks",))[1]
    assert client.post(f"/api/v1/webhook-deliveries/{ids[0]}/retry", headers=bearer(other)).status_code == 404


# --- production: https only, no private addresses -----------------------------------------------


@pytest.fixture
def production(app):
    app.config.update(REGISTRY_ENV="production", WEBHOOK_ALLOW_PRIVATE=False)
    yield app.config
    app.config.update(REGISTRY_ENV="testing")


@pytest.mark.parametrize("url, reason", [
    ("http://example.com/hook", "invalid.webhook_url_https"),
    ("https://127.0.0.1/hook", "invalid.webhook_url_private"),
    ("https://localhost:8443/hook", "invalid.webhook_url_private"),
    ("https://169.254.169.254/latest/meta-data", "invalid.webhook_url_private"),
    ("https://10.1.2.3/hook", "invalid.webhook_url_private"),
    ("https://[::1]/hook", "invalid.webhook_url_private"),
    ("https://[::ffff:192.168.0.1]/hook", "invalid.webhook_url_private"),
    ("https://2130706433/hook", "invalid.webhook_url_private"),  # 127.0.0.1 as one decimal number
    ("https://0x7f000001/hook", "invalid.webhook_url_private"),
    ("https://[64:ff9b::a9fe:a9fe]/hook", "invalid.webhook_url_private"),  # NAT64 of 169.254.169.254
    ("https://[2002:7f00:1::]/hook", "invalid.webhook_url_private"),  # 6to4 of 127.0.0.1
])
def test_production_refuses_plain_http_and_private_addresses(client, key, production, url, reason):
    answer = create(client, key, url=url)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["field"] == "url" and answer.json["error"]["reason"] == reason


def test_production_allows_private_addresses_when_told(client, key, production):
    production["WEBHOOK_ALLOW_PRIVATE"] = True
    assert create(client, key, url="https://127.0.0.1/hook").status_code == 201
    assert create(client, key, url="http://127.0.0.1/hook").status_code == 422  # still https only


def test_development_allows_http_to_this_machine(client, key):
    assert create(client, key, url="http://localhost:8000/hook").status_code == 201


@pytest.mark.parametrize("change, reason", [({"enabled": "yes"}, "invalid_type.boolean"),
                                            ({"enabled": 0}, "invalid_type.boolean"),
                                            ({"events": ["callback.completed"] * 51}, "invalid.too_many"),
                                            ({"url": "http://[::1"}, "invalid.webhook_url")])
def test_a_change_of_the_wrong_type_is_refused_and_changes_nothing(client, key, db, change, reason):
    """A JSON body is read strictly: `"yes"` or `0` is no boolean (they were taken as true and false)."""
    endpoint_id = create(client, key).json["id"]
    answer = client.patch(f"{BASE}/{endpoint_id}", json=change, headers=bearer(key))
    assert answer.status_code == 422, answer.json
    [name] = change
    assert answer.json["error"]["field"] == name and answer.json["error"]["reason"] == reason
    assert client.get(f"{BASE}/{endpoint_id}", headers=bearer(key)).json["enabled"] is True


def test_answers_write_times_with_their_utc_offset_like_the_rest_of_the_api(client, key, db):
    assert create(client, key).json["created_at"].endswith("+00:00")
