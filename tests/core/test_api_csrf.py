"""The JSON API riding a browser session: same origin (or a CSRF token) and a JSON body, or
refused; bearer-token clients are unchanged (see registry/core/security.py)."""

import re

import pytest

from registry.verification.models import VerificationAttempt
from tests.factories import PASSWORD, bearer, make_merchant, make_number, make_token, make_user

NUMBER = "+8613800138000"
EVIL = "https://evil.example"


@pytest.fixture
def app_overrides():
    # Flask-WTF's tokens on, as in production (the test config turns them off).
    return {"WTF_CSRF_ENABLED": True, "PUBLIC_BASE_URL": "https://registry.example.com"}


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def number(owner):
    return make_number(make_merchant(owner))


def token_on(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def browser_token(client, owner) -> str:
    """Sign `client` in through the login form, as a browser does; the token of its pages."""
    form_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    signed_in = client.post("/login", data={"email": owner.email, "password": PASSWORD,
                                            "csrf_token": form_token})
    assert signed_in.status_code == 302
    return token_on(client.get("/").text)


def send_code(client, number, **kwargs):
    return client.post(f"/api/v1/numbers/{number.id}/verification", **kwargs)


def codes_sent(simulator, db) -> tuple[int, int]:
    return len(simulator.state.inbox(NUMBER)), db.session.query(VerificationAttempt).count()


def test_cross_site_text_plain_post_on_the_session_sends_no_sms(client, number, browser_token,
                                                                simulator, db):
    """The issue's reproduction: an empty text/plain body from another site's page."""
    response = send_code(client, number, data="", content_type="text/plain",
                         headers={"Origin": EVIL})
    assert response.status_code == 403
    assert response.json["error"]["reason"] == "csrf_refused.origin"
    assert codes_sent(simulator, db) == (0, 0)


def test_the_browser_marking_a_request_cross_site_is_refused_outright(client, number, browser_token,
                                                                      simulator, db):
    response = send_code(client, number, json={}, headers={
        "Sec-Fetch-Site": "cross-site", "X-CSRFToken": browser_token})
    assert response.status_code == 403
    assert response.json["error"]["reason"] == "csrf_refused.cross_site"
    assert codes_sent(simulator, db) == (0, 0)


@pytest.mark.parametrize("origin", ["https://registry.example.com", "http://localhost"])
def test_same_origin_needs_a_json_content_type(client, number, browser_token, simulator, db, origin):
    refused = send_code(client, number, data="", content_type="text/plain", headers={"Origin": origin})
    assert refused.status_code == 415
    assert refused.json["error"]["code"] == "unsupported_media_type"
    assert refused.json["error"]["field"] == "Content-Type"
    assert "Content-Type" in refused.json["error"]["message"]
    assert codes_sent(simulator, db) == (0, 0)
    # The same request from this site's own origin (the public URL, or the host asked) with JSON.
    sent = send_code(client, number, json={}, headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert sent.status_code == 202
    assert codes_sent(simulator, db) == (1, 1)


def test_without_origin_the_csrf_token_header_is_required(client, number, browser_token, simulator, db):
    missing = send_code(client, number, json={})
    assert missing.status_code == 403 and missing.json["error"]["reason"] == "csrf_refused.token"
    wrong = send_code(client, number, json={}, headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 403 and wrong.json["error"]["reason"] == "csrf_refused.token"
    assert codes_sent(simulator, db) == (0, 0)
    sent = send_code(client, number, json={}, headers={"X-CSRFToken": browser_token})
    assert sent.status_code == 202
    assert codes_sent(simulator, db) == (1, 1)


def test_the_refusal_is_in_the_visitors_language(client, number, browser_token):
    response = send_code(client, number, json={}, headers={"Origin": EVIL, "Accept-Language": "zh"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "csrf_refused"
    assert "不是本站" in response.json["error"]["message"]


def test_bearer_requests_are_unchanged(client, owner, number, simulator, db):
    headers = {**bearer(make_token(owner)), "Origin": EVIL}
    response = send_code(client, number, json={}, headers=headers)
    assert response.status_code == 202
    assert codes_sent(simulator, db) == (1, 1)


def test_requests_without_the_session_cookie_are_unchanged(client, owner):
    """No cookie, nothing to ride: the token endpoint answers any client as before."""
    response = client.post("/api/v1/auth/token", json={"email": owner.email, "password": PASSWORD},
                           headers={"Origin": EVIL})
    assert response.status_code == 201


def test_reads_on_the_session_are_unchanged(client, owner, number, browser_token):
    store = number.merchant_id
    response = client.get(f"/api/v1/merchants/{store}/numbers", headers={"Origin": EVIL})
    assert response.status_code == 200


def test_signed_in_pages_carry_the_token_for_their_scripts(client, browser_token):
    assert browser_token
    client.post("/logout", data={"csrf_token": browser_token})
    assert 'name="csrf-token"' not in client.get("/").text
