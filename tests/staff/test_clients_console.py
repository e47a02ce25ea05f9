"""The staff console's integration clients page: admins list, create (the key shown once) and
revoke; plain staff and merchants are refused; a bad form answers 422 naming its field."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from registry.audit.models import StaffAudit
from registry.core.extensions import db as database
from registry.integrations.models import IntegrationClient
from tests.factories import bearer, make_client, sign_in_as
from tests.pages import text_of

KEY = re.compile(r"rk_[A-Za-z0-9_-]{43}")
PAGE = "/staff/clients/"
WHOAMI = "/api/v1/integration/whoami"


def stored_clients() -> list[IntegrationClient]:
    database.session.expire_all()
    return list(database.session.scalars(sa.select(IntegrationClient)))


def test_an_admin_is_staff_too(client, admin):
    assert client.get("/staff/").status_code == 200
    assert 'href="/staff/clients/"' in client.get("/staff/").text


def test_an_admin_creates_a_client_and_sees_its_key_once(client, admin):
    response = client.post(PAGE, data={"name": "Shop A", "scopes": ["callbacks", "bindings"]})
    assert response.status_code == 200, text_of(response.text)
    assert response.headers["Cache-Control"] == "no-store"
    [key] = set(KEY.findall(response.text))
    [row] = stored_clients()
    assert (row.name, row.scopes, row.created_by) == ("Shop A", ["bindings", "callbacks"], admin.id)
    assert row.key_hash != key and key not in repr(row.__dict__)
    assert "shown only this once" in text_of(response.text)
    listed = client.get(PAGE)
    assert listed.status_code == 200
    assert KEY.search(listed.text) is None and f"rk_{key[3:11]}…" in html.unescape(listed.text)
    assert "Shop A" in listed.text
    [entry] = database.session.scalars(sa.select(StaffAudit)).all()
    assert (entry.staff_id, entry.action, entry.target) == (
        admin.id, "client_create", f"integration_client:{row.id}")
    assert client.get(WHOAMI, headers=bearer(key)).json["id"] == row.id  # the key works


def test_an_admin_revokes_a_client(client, admin):
    row, key = make_client()
    page = client.get(PAGE).text
    assert f'action="/staff/clients/{row.id}/revoke"' in page and "data-confirm=" in page
    assert "staff-clients.js" in page
    response = client.post(f"/staff/clients/{row.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    [stored] = stored_clients()
    assert stored.revoked_at is not None
    assert "is revoked" in text_of(client.get(PAGE).text)
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 401
    assert client.post(f"/staff/clients/{row.id}/revoke").status_code == 409
    assert client.post("/staff/clients/999/revoke").status_code == 404
    actions = [e.action for e in database.session.scalars(sa.select(StaffAudit))]
    assert actions == ["client_revoke"]


def test_the_page_speaks_chinese(client, admin):
    make_client()
    page = client.get(PAGE, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "集成客户端" in page and "吊销" in page


@pytest.mark.parametrize("role", ["staff", "merchant"])
def test_others_are_refused(client, role):
    sign_in_as(client, role)
    row, _key = make_client()
    for response in (client.get(PAGE), client.post(PAGE, data={"name": "X", "scopes": ["bindings"]}),
                     client.post(f"/staff/clients/{row.id}/revoke")):
        assert response.status_code == 403
        assert "This needs an admin account." in text_of(response.text)
    assert len(stored_clients()) == 1 and stored_clients()[0].revoked_at is None
    assert 'href="/staff/clients/"' not in client.get("/").text


def test_strangers_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("data, field, says", [
    ({"name": "", "scopes": ["bindings"]}, "name", "'name' must not be empty"),
    ({"name": "x" * 10_000, "scopes": ["bindings"]}, "name", "at most 100 characters"),
    ({"name": "Shop\x00A", "scopes": ["bindings"]}, "name", "must not contain control characters"),
    ({"name": "Shop A", "scopes": ["bindings", "billing"]}, "scopes", "Unknown scope 'billing'"),
    ({"name": "Shop A", "scopes": ["bind\x1bings"]}, "scopes", "must not contain control characters"),
    ({"name": "Shop A"}, "scopes", "Choose at least one scope"),
])
def test_bad_input_is_422_naming_the_field(client, admin, data, field, says):
    response = client.post(PAGE, data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    error = re.search(rf'<ul class="field-error" id="{field}-error">(.*?)</ul>', response.text, re.S)
    assert says in html.unescape(error.group(1))
    assert KEY.search(response.text) is None and stored_clients() == []


def test_revoking_needs_the_csrf_token(app, client, admin):
    row, _key = make_client()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/staff/clients/{row.id}/revoke")
        assert refused.status_code == 400 and stored_clients()[0].revoked_at is None
        page = client.get(PAGE).text
        form = re.search(rf'action="/staff/clients/{row.id}/revoke".*?name="csrf_token" value="([^"]+)"',
                         page, re.S)
        done = client.post(f"/staff/clients/{row.id}/revoke", data={"csrf_token": form.group(1)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert done.status_code == 302 and stored_clients()[0].revoked_at is not None
