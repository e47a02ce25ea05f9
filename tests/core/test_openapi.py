"""The OpenAPI document: it lists every /api/v1 route, is valid, is served with its reader from
the package; schema refusals name the field in the visitor's language."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from playwright.sync_api import expect
from pydantic import ValidationError

from registry.core.openapi import ApiModel, Text
from registry.core.openapi.refusals import refusal
from registry.core.openapi.spec import undocumented_routes


def test_every_api_route_is_in_the_document(app):
    assert undocumented_routes(app) == []


def test_the_served_document_is_valid_openapi_3_1(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert set(paths["/api/v1/merchants/{merchant_id}/numbers"]) == {"get", "post"}
    create = paths["/api/v1/merchants"]["post"]
    assert create["security"] == [{"userToken": []}, {"session": []}]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewStore"}
    assert {"201", "401", "403", "422"} <= set(create["responses"])
    assert paths["/api/v1/integration/whoami"]["get"]["security"] == [{"clientKey": []}]
    assert set(document["components"]["securitySchemes"]) == {
        "clientKey", "userToken", "shopperToken", "session"}


def test_a_public_profile_needs_no_credentials_in_the_document(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/api/v1/merchants/{merchant_id}"]["get"]
    assert operation["security"] == []
    assert operation["parameters"][0]["schema"]["maximum"] == 2**31 - 1


def test_the_reader_loads_nothing_from_other_hosts(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        assert client.get(asset).status_code == 200, asset


class _Sample(ApiModel):
    name: Text(10)
    count: int = 0


@pytest.mark.parametrize(("body", "reason", "field"), [
    ({}, "required", "name"),
    ({"name": 5}, "invalid_type", "name"),
    ({"name": "   "}, "required.not_empty", "name"),
    ({"name": "x" * 11}, "too_long", "name"),
    ({"name": "ok", "count": "many"}, "invalid_type.integer", "count"),
    ({"name": "ok", "cuont": 1}, "unknown_field", "cuont"),
])
def test_schema_refusals_are_catalogue_errors_naming_the_field(app, body, reason, field):
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate(body)
    error = refusal(caught.value)
    assert (error.key, error.field, error.status) == (reason, field, 422)


def test_a_schema_refusal_answers_in_the_visitors_language(client):
    english = client.post("/api/v1/accounts", json={"email": 5, "password": "long enough"})
    assert english.status_code == 422
    assert english.get_json()["error"] == {
        "code": "invalid_type", "reason": "invalid_type", "field": "email", "name": "email",
        "message": "'email' must be a string."}
    chinese = client.post("/api/v1/accounts", json={"email": "a@example.com", "password": "x" * 300},
                          headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 422
    error = chinese.get_json()["error"]
    assert (error["reason"], error["field"], error["limit"]) == ("too_long", "password", 256)
    assert "256" in error["message"] and "password" in error["message"]
    assert not error["message"].isascii()


@pytest.mark.browser
def test_the_reader_renders_the_document_in_chromium(live_server, page):
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server}/api/docs")
    expect(page.get_by_text("Verified merchant registry API")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/merchants/{merchant_id}/numbers")
           .first).to_be_visible()
    assert blocked == []
