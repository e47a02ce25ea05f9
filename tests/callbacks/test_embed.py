"""The embeddable button's server side: its script, the framed flow's page (rendered for a listed
origin only, and framable by the list only), and the one CORS grant."""

import pytest

from registry.merchants.embed import set_embed_origins
from tests.factories import bearer, make_callable_merchant, make_merchant, make_shopper, make_shopper_token

SHOP = "https://shop.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def store(db):
    merchant = make_callable_merchant(name="Ming's Tea")
    set_embed_origins(merchant, [SHOP, "https://m.example.com:8443"], allow_http_localhost=False)
    db.session.commit()
    return merchant


def flow(client, store_id, **query):
    return client.get(f"/embed/v1/merchants/{store_id}/callback", query_string=query)


def test_the_script_is_served_small_cached_and_as_javascript(client):
    answer = client.get("/embed/v1/callback.js")
    assert answer.status_code == 200
    assert answer.mimetype == "text/javascript"
    assert "public" in answer.headers["Cache-Control"] and "max-age=3600" in answer.headers["Cache-Control"]
    assert answer.headers.get("ETag")
    assert len(answer.data) < 10 * 1024
    again = client.get("/embed/v1/callback.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    # No other host: the script only talks to the registry that served it.
    code = answer.text.split("*/", 1)[1]  # after the opening comment, which shows the snippet
    assert "http://" not in code and "https://" not in code and "import(" not in code


def test_a_listed_origin_gets_the_flow_framable_by_the_list_only(client, store):
    answer = flow(client, store.id, origin="https://m.example.com:8443", lang="zh-CN", order_ref="A-1")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert f"frame-ancestors {SHOP} https://m.example.com:8443;" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "X-Frame-Options" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    assert 'id="step-phone"' in answer.text and "Ming&#39;s Tea" in answer.text
    assert 'lang="zh-Hans"' in answer.text and "我们应该拨打哪个号码？" in answer.text
    assert '"origin": "https://m.example.com:8443"' in answer.text


@pytest.mark.parametrize("origin", [OTHER, None, "https://shop.example.com.evil.net", "javascript:alert(1)",
                                    "https://shop.example.com/<script>"])
def test_an_origin_not_on_the_list_is_refused(client, store, origin):
    answer = flow(client, store.id, **({"origin": origin} if origin else {}))
    assert answer.status_code == 403
    assert "This site may not show this store&#39;s callback button." in answer.text
    assert 'id="step-phone"' not in answer.text
    # The browser too keeps every other site from framing it.
    assert f"frame-ancestors {SHOP} https://m.example.com:8443;" in answer.headers["Content-Security-Policy"]
    assert "<script>" not in answer.text


def test_a_store_without_a_list_cannot_be_framed_at_all(client, db):
    merchant = make_callable_merchant()
    answer = flow(client, merchant.id, origin=SHOP)
    assert answer.status_code == 403
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("lang", "words"), [("en", "Which number should we call?"),
                                             ("fr", "Which number should we call?"),
                                             ("zh-Hans", "我们应该拨打哪个号码？"), ("<b>", "Which number")])
def test_the_flow_speaks_the_embed_language_falling_back_to_english(client, store, lang, words):
    answer = flow(client, store.id, origin=SHOP, lang=lang)
    assert answer.status_code == 200 and words in answer.text and "<b>" not in answer.text


def test_an_unknown_store_is_a_404_no_one_may_frame(client, store):
    answer = flow(client, store.id + 1000, origin=SHOP)
    assert answer.status_code == 404
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_a_suspended_store_shows_why_inside_the_frame(client, db, store):
    store.status = "suspended"
    db.session.commit()
    answer = flow(client, store.id, origin=SHOP)
    assert answer.status_code == 200
    assert "This store is suspended" in answer.text and 'id="step-phone"' not in answer.text


def test_other_pages_still_refuse_every_frame(client, store):
    answer = client.get(f"/stores/{store.id}")
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_the_public_profile_answers_any_origin_without_credentials(client, store):
    answer = client.get(f"/api/v1/merchants/{store.id}", headers={"Origin": OTHER})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    # An unknown store's 404 is readable too, so the script can say why it shows nothing.
    missing = client.get(f"/api/v1/merchants/{store.id + 1000}", headers={"Origin": OTHER})
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(f"/api/v1/merchants/{store.id}", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" not in preflight.headers.get("Access-Control-Allow-Methods", "")


def test_everything_else_keeps_same_origin_rules(client, store):
    shopper = make_shopper()
    token = bearer(make_shopper_token(shopper))
    for tail in ("callback-slots", "embed-origins", "numbers"):
        path = f"/api/v1/merchants/{store.id}/{tail}"
        answer = client.get(path, headers={"Origin": OTHER, **token})
        assert "Access-Control-Allow-Origin" not in answer.headers, path
    preflight = client.options(f"/api/v1/merchants/{store.id}/callbacks", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    created = client.post(f"/api/v1/merchants/{store.id}/callbacks", json={"when": "asap"},
                          headers={"Origin": OTHER, **token})
    assert "Access-Control-Allow-Origin" not in created.headers


def test_the_page_for_a_merchant_with_markup_in_its_name_is_escaped(client, db):
    merchant = make_merchant(name="<img src=x onerror=alert(1)>")
    set_embed_origins(merchant, [SHOP], allow_http_localhost=False)
    db.session.commit()
    answer = flow(client, merchant.id, origin=SHOP, order_ref="\"'><script>alert(1)</script>")
    assert "<img src=x" not in answer.text and "<script>alert" not in answer.text


@pytest.mark.parametrize("merchant_id", ["1<script>", "%3Cb%3E1", "1 OR 1=1"])
def test_markup_in_the_store_id_finds_no_page(client, merchant_id):
    answer = client.get(f"/embed/v1/merchants/{merchant_id}/callback?origin={SHOP}")
    assert answer.status_code == 404
    assert "<script>" not in answer.text and "<b>" not in answer.text
