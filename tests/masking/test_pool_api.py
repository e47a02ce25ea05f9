"""/api/v1/proxy-numbers: admins list, search, buy, drain and release; everyone else is refused
(403, or 401 without a token); every refusal names its field and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.audit.models import StaffAudit
from registry.masking.models import ProxyNumber
from tests.factories import bearer, make_binding, make_client, make_proxy, make_token, make_user
from tests.pool_support import restore_simulator_numbers  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("restore_simulator_numbers")
API = "/api/v1/proxy-numbers"


@pytest.fixture
def admin(db) -> dict:
    return bearer(make_token(make_user("admin")))


def audit_actions(db) -> list[str]:
    db.session.expire_all()
    return [a.action for a in db.session.scalars(sa.select(StaffAudit).order_by(StaffAudit.id))]


def test_search_buy_list_drain_release(client, db, admin, simulator):
    found = client.post(f"{API}/search", json={"country": "US", "type": "local", "contains": "312"},
                        headers=admin)
    assert found.status_code == 200, found.json
    offer = found.json["items"][0]
    assert offer["phone_number"].startswith("+1312") and offer["voice"] and offer["sms"]
    assert found.json["next"] is None

    bought = client.post(API, json={"phone_number": offer["phone_number"]}, headers=admin)
    assert bought.status_code == 201, bought.json
    shown = bought.json
    assert (shown["phone_number"], shown["status"], shown["country"], shown["origin"]) == (
        offer["phone_number"], "active", "US", "staff")
    assert simulator.state.find_number(offer["phone_number"]) is not None

    listed = client.get(API, headers=admin)
    assert [p["phone_number"] for p in listed.json["items"]] == [offer["phone_number"]]

    drained = client.post(f"{API}/{shown['id']}/drain", headers=admin)
    assert drained.status_code == 200 and drained.json["status"] == "draining"
    assert drained.json["draining_since"] is not None

    released = client.delete(f"{API}/{shown['id']}", headers=admin)
    assert released.status_code == 200 and released.json["status"] == "released"
    assert simulator.state.find_number(offer["phone_number"]) is None
    assert audit_actions(db) == ["pool_buy", "pool_drain", "pool_release"]


def test_the_list_pages_by_cursor(client, db, admin):
    for n in range(3):
        make_proxy(f"+861390000000{n}")
    first = client.get(API, query_string={"per_page": 2}, headers=admin).json
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(API, query_string={"per_page": 2, "cursor": first["next"]}, headers=admin).json
    assert len(second["items"]) == 1 and second["next"] is None
    for cursor in ("abc", "²", "1²", "-1", "1"):  # "²".isdigit(), yet int("²") fails
        bad = client.get(API, query_string={"cursor": cursor}, headers=admin)
        assert (bad.status_code, bad.json["error"]["field"]) == (422, "cursor"), cursor


def test_buying_a_number_twilio_says_is_gone(client, db, admin, simulator):
    found = client.post(f"{API}/search", json={"country": "GB", "type": "mobile"}, headers=admin)
    offer = found.json["items"][0]
    simulator.state.sold_elsewhere.add(offer["phone_number"])
    refused = client.post(API, json={"phone_number": offer["phone_number"]}, headers=admin)
    assert refused.status_code == 409
    error = refused.json["error"]
    assert (error["reason"], error["field"]) == ("conflict.number_unavailable", "phone_number")
    assert "no longer available" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(ProxyNumber.id))) == 0
    assert audit_actions(db) == []


def test_releasing_a_number_with_active_bindings_is_refused_with_the_count(client, db, admin):
    proxy = make_proxy("+8613900000001")
    make_binding()
    refused = client.delete(f"{API}/{proxy.id}", headers=admin)
    assert refused.status_code == 409
    error = refused.json["error"]
    assert (error["reason"], error["count"]) == ("conflict.pool_bindings_active", 1)
    assert "1 active binding" in error["message"]
    db.session.expire_all()
    assert db.session.get(ProxyNumber, proxy.id).status == "active"


def test_a_search_with_a_country_twilio_does_not_know(client, db, admin):
    refused = client.post(f"{API}/search", json={"country": "ZZ"}, headers=admin)
    assert refused.status_code == 422
    error = refused.json["error"]
    assert (error["reason"], error["field"]) == ("invalid.pool_country", "country")
    assert "ZZ" in refused.json["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"country": "Germany"}, "country"), ({}, "country"), ({"country": 12}, "country"),
    ({"country": "US", "type": "tollfree"}, "type"), ({"country": "US", "area_code": "41a"}, "area_code"),
    ({"country": "US", "contains": "5%5"}, "contains"), ({"country": "US", "colour": "red"}, "colour"),
    ({"country": "US", "type": {}}, "type"), ({"country": "US", "type": 0}, "type"),
])
def test_search_refusals_name_the_field(client, db, admin, body, field):
    refused = client.post(f"{API}/search", json=body, headers=admin)
    assert refused.status_code == 422 and refused.json["error"]["field"] == field


@pytest.mark.parametrize("number", ["14155550100", "+1 900 555 0100", "", None, ["+14155550100"]])
def test_buying_a_bad_number_is_refused_by_field(client, db, admin, number):
    refused = client.post(API, json={"phone_number": number}, headers=admin)
    assert refused.status_code == 422 and refused.json["error"]["field"] == "phone_number"


def test_unknown_and_released_numbers(client, db, admin):
    assert client.post(f"{API}/999999/drain", headers=admin).status_code == 404
    assert client.delete(f"{API}/999999", headers=admin).status_code == 404
    proxy = make_proxy("+8613900000001")
    assert client.delete(f"{API}/{proxy.id}", headers=admin).status_code == 200
    again = client.post(f"{API}/{proxy.id}/drain", headers=admin)
    assert (again.status_code, again.json["error"]["reason"]) == (409, "conflict.pool_released")


@pytest.mark.parametrize("role", ["merchant", "staff"])
def test_non_admins_are_refused_every_pool_endpoint(client, db, role, simulator):
    proxy = make_proxy("+8613900000001")
    headers = bearer(make_token(make_user(role)))
    _, key = make_client(scopes=["bindings"])
    owned = len(simulator.state.numbers)
    calls = [("GET", API, None), ("POST", f"{API}/search", {"country": "US"}),
             ("POST", API, {"phone_number": "+14155550142"}), ("POST", f"{API}/{proxy.id}/drain", None),
             ("DELETE", f"{API}/{proxy.id}", None)]
    for method, path, body in calls:
        assert client.open(path, method=method, json=body, headers=headers).status_code == 403, path
        assert client.open(path, method=method, json=body, headers=bearer(key)).status_code in (401, 403)
        assert client.open(path, method=method, json=body).status_code == 401, path
    db.session.expire_all()
    assert db.session.get(ProxyNumber, proxy.id).status == "active"
    assert len(simulator.state.numbers) == owned


def test_chinese_refusal(client, db, admin):
    proxy = make_proxy("+8613900000001")
    make_binding()
    refused = client.delete(f"{API}/{proxy.id}", headers={**admin, "Accept-Language": "zh"})
    assert refused.status_code == 409 and "绑定" in refused.json["error"]["message"]
