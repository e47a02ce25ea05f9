"""Integration clients: the `flask clients` commands, keys stored hashed, and `rk_` keys on `/api/v1`
(whoami, 401 without or with a bad key, 403 without the scope, one logged row per call)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.core.errors import Forbidden, InvalidInput
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.integrations import operations
from registry.integrations.auth import client_required
from registry.integrations.models import IntegrationCall, IntegrationClient
from tests.factories import bearer, make_client, make_merchant, make_token, make_user

KEY = re.compile(r"rk_[A-Za-z0-9_-]{43}")
WHOAMI = "/api/v1/integration/whoami"


def everything_stored() -> str:
    """Every value of every row of every table, as text."""
    text = []
    with database.engine.connect() as conn:
        for table in database.metadata.sorted_tables:
            text.extend(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    return "\n".join(text)


def calls() -> list[IntegrationCall]:
    database.session.expire_all()
    return list(database.session.scalars(sa.select(IntegrationCall).order_by(IntegrationCall.id)))


# --- the command line -------------------------------------------------------------------


def test_create_prints_the_key_once_and_stores_only_its_hash(runner, db):
    result = runner.invoke(args=["clients", "create", "Shop A", "--scope", "bindings", "--scope", "webhooks"])
    assert result.exit_code == 0, result.output
    keys = KEY.findall(result.output)
    assert len(keys) == 1, result.output
    key = keys[0]
    client = db.session.scalars(sa.select(IntegrationClient)).one()
    assert client.name == "Shop A" and client.scopes == ["bindings", "webhooks"]
    assert client.key_prefix == key[3:11] and client.key_hash == operations.hash_key(key)
    assert key not in everything_stored() and key[3:] not in everything_stored()

    listed = runner.invoke(args=["clients", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"rk_{key[3:11]}…" in listed.output and "Shop A" in listed.output
    assert "bindings,webhooks" in listed.output
    assert key not in listed.output and key[3:12] not in listed.output


@pytest.mark.parametrize("args, says", [
    (["Shop A"], "scopes: Choose at least one scope"),
    (["Shop A", "--scope", "billing"], "'billing' is not one of"),
    (["   ", "--scope", "bindings"], "name: 'name' must not be empty"),
    (["x" * 10_000, "--scope", "bindings"], "name: 'name' must be at most 100 characters"),
    (["Shop\x1bA", "--scope", "bindings"], "name: 'name' must not contain control characters"),
])
def test_create_refuses_bad_input_naming_it(runner, db, args, says):
    result = runner.invoke(args=["clients", "create", *args])
    assert result.exit_code != 0
    assert says in result.output
    assert db.session.scalar(sa.select(sa.func.count(IntegrationClient.id))) == 0


def test_revoke_and_list(runner, db):
    client, _key = make_client()
    result = runner.invoke(args=["clients", "revoke", str(client.id)])
    assert result.exit_code == 0 and f"Revoked integration client {client.id}" in result.output
    db.session.expire_all()
    assert db.session.get(IntegrationClient, client.id).revoked_at is not None
    again = runner.invoke(args=["clients", "revoke", str(client.id)])
    assert again.exit_code != 0 and "already revoked" in again.output
    missing = runner.invoke(args=["clients", "revoke", "999"])
    assert missing.exit_code != 0 and "No such integration client" in missing.output
    listed = runner.invoke(args=["clients", "list"]).output.splitlines()
    assert listed[0].split()[:4] == ["ID", "NAME", "KEY", "SCOPES"]
    assert "UTC" in listed[1].split("callbacks", 1)[1]  # created, and revoked


def test_list_without_clients(runner, db):
    assert "No integration clients." in runner.invoke(args=["clients", "list"]).output


# --- operations -------------------------------------------------------------------------


def test_scopes_are_checked_and_ordered(app):
    assert operations.check_scopes(["webhooks", "bindings", "webhooks"]) == ["bindings", "webhooks"]
    for bad in ([], None, ["admin"], [3], ["Bindings"]):
        with pytest.raises(InvalidInput) as refused:
            operations.check_scopes(bad)
        assert refused.value.field == "scopes"


def test_authenticate(app):
    client, key = make_client()
    assert operations.authenticate(key).id == client.id
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "rk_", "rk_" + "x" * 5000, key[3:], ""):
        assert operations.authenticate(wrong) is None
    operations.revoke_client(client.id)
    database.session.commit()
    assert operations.authenticate(key) is None


def test_require_scope(app):
    client, _key = make_client(scopes=["bindings"])
    operations.require_scope(client, "bindings")
    with pytest.raises(Forbidden) as refused:
        operations.require_scope(client, "merchants")
    assert refused.value.key == "forbidden.scope" and refused.value.params == {"scope": "merchants"}
    with pytest.raises(ValueError):
        operations.require_scope(client, "typo")


def test_last_used_is_updated_at_most_once_a_minute(app):
    client, _key = make_client()
    now = utcnow()
    operations.record_call(client, "GET", "x", 200, now=now)
    assert client.last_used_at == now
    operations.record_call(client, "GET", "x", 200, now=now + timedelta(seconds=59))
    assert client.last_used_at == now
    operations.record_call(client, "GET", "x", 200, now=now + timedelta(seconds=61))
    assert client.last_used_at == now + timedelta(seconds=61)
    database.session.commit()
    assert len(calls()) == 3


# --- the API ----------------------------------------------------------------------------


def test_whoami_answers_the_calling_client_and_logs_the_call(client):
    row, key = make_client("Shop A", ["callbacks", "bindings"])
    response = client.get(WHOAMI, headers=bearer(key))
    assert response.status_code == 200, response.json
    assert response.json == {"id": row.id, "name": "Shop A", "scopes": ["bindings", "callbacks"]}
    [call] = calls()
    assert (call.client_id, call.method, call.endpoint, call.status) == (
        row.id, "GET", "integrations_api.whoami", 200)
    database.session.refresh(row)
    first_use = row.last_used_at
    assert first_use is not None
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 200
    assert len(calls()) == 2
    database.session.refresh(row)
    assert row.last_used_at == first_use  # at most once a minute


def test_no_key_is_401(client):
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json["error"]["reason"] == "unauthorized.client_key"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="registry"'
    assert calls() == []


@pytest.mark.parametrize("wrong", ["rk_" + "A" * 43, "rk_", "rk_\u00e9t\u00e9"])
def test_a_wrong_key_is_401(client, wrong):
    make_client()
    response = client.get(WHOAMI, headers={"Authorization": f"Bearer {wrong}".encode().decode("latin-1")})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.json["error"]["reason"] == "unauthorized.client_key_invalid"
    assert calls() == []


def test_a_revoked_key_is_401(client):
    row, key = make_client()
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 200
    operations.revoke_client(row.id)
    database.session.commit()
    response = client.get(WHOAMI, headers=bearer(key))
    assert response.status_code == 401
    assert response.json["error"]["reason"] == "unauthorized.client_key_invalid"
    assert len(calls()) == 1


def test_a_users_token_is_not_a_client(client):
    token = make_token(make_user("merchant"))
    response = client.get(WHOAMI, headers=bearer(token))
    assert response.status_code == 401 and response.json["error"]["reason"] == "unauthorized.client_key"


def test_a_missing_scope_is_403_and_the_refused_call_is_logged(app, client):
    @client_required("merchants")
    def merchants_only():
        return {"ok": True}

    app.add_url_rule("/api/v1/test-only/merchants", "test_only_merchants", merchants_only)
    row, key = make_client(scopes=["bindings"])
    response = client.get("/api/v1/test-only/merchants", headers=bearer(key),
                          environ_base={"HTTP_ACCEPT_LANGUAGE": "zh"})
    assert response.status_code == 403
    error = response.json["error"]
    assert (error["code"], error["reason"], error["scope"]) == ("forbidden", "forbidden.scope", "merchants")
    assert "merchants" in error["message"] and "scope" not in error["message"]  # in Chinese
    [call] = calls()
    assert (call.client_id, call.status, call.endpoint) == (row.id, 403, "test_only_merchants")
    allowed, allowed_key = make_client("Shop B", scopes=["merchants"])
    assert client.get("/api/v1/test-only/merchants", headers=bearer(allowed_key)).json == {"ok": True}


def test_a_refused_client_call_keeps_only_its_log_row(app, client):
    # A view that changed something and then answered with a refusal (not raising): the change
    # must not be committed along with the call's log row.
    @client_required("bindings")
    def half_done():
        operations.create_client("Written by a refused call", ["bindings"])
        return {"error": {"code": "conflict"}}, 409

    app.add_url_rule("/api/v1/test-only/half-done", "test_only_half_done", half_done, methods=["POST"])
    row, key = make_client(scopes=["bindings"])
    row_id, row_name = row.id, row.name
    assert client.post("/api/v1/test-only/half-done", headers=bearer(key), json={}).status_code == 409
    database.session.remove()
    assert database.session.scalars(sa.select(IntegrationClient.name)).all() == [row_name]
    [call] = calls()
    assert (call.client_id, call.status) == (row_id, 409)


def test_the_public_merchant_profile_works_with_a_client_key(client):
    store = make_merchant()
    _row, key = make_client()
    response = client.get(f"/api/v1/merchants/{store.id}", headers=bearer(key))
    assert response.status_code == 200 and response.json["id"] == store.id
    assert calls()[-1].endpoint == "merchants_api.show_merchant"


def test_a_client_is_not_a_user(client):
    """A client key never signs a user in: a merchant's endpoint answers 401."""
    store = make_merchant()
    _row, key = make_client()
    response = client.get(f"/api/v1/merchants/{store.id}/numbers", headers=bearer(key))
    assert response.status_code == 401 and response.json["error"]["reason"] == "unauthorized"
    assert calls()[-1].status == 401


def test_a_client_posts_without_csrf(client):
    """A bearer key is not the browser's session: no CSRF token or Origin is asked for."""
    _row, key = make_client()
    response = client.post("/api/v1/merchants", json={"name": "X"}, headers=bearer(key))
    assert response.status_code == 401  # not a user; but not refused as a cross-site request


def test_the_log_of_calls_is_kept_for_its_retention_only(app, client):
    row, key = make_client()
    for _ in range(3):
        assert client.get(WHOAMI, headers=bearer(key)).status_code == 200
    old, *recent = calls()
    old.created_at = utcnow() - timedelta(days=91)
    recent[0].created_at = utcnow() - timedelta(days=89)
    database.session.commit()

    assert operations.forget_old_calls(90, batch=1) == 1
    database.session.commit()
    assert [c.id for c in calls()] == [c.id for c in recent]
