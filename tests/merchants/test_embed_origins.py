"""Who may embed a store's callback button: the list of origins, through the JSON API (the
owner, or the integration client that imported the store) and the store settings page."""

import pytest

from registry.merchants.embed import parse_origin
from registry.merchants.models import EmbedOrigin
from tests.factories import PASSWORD, bearer, make_client, make_merchant, make_token, make_user

SHOP = "https://shop.example.com"


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def store(owner):
    return make_merchant(owner)


def put(client, store_id, origins, headers):
    return client.put(f"/api/v1/merchants/{store_id}/embed-origins", json={"origins": origins},
                      headers=headers)


def listed(client, store_id, headers):
    return client.get(f"/api/v1/merchants/{store_id}/embed-origins", headers=headers).json["origins"]


def test_the_owner_sets_and_reads_the_list(client, db, owner, store):
    headers = bearer(make_token(owner))
    answer = put(client, store.id, ["HTTPS://Shop.Example.com:443/", "https://m.example.com:8443",
                                    SHOP, "http://127.0.0.1:8000"], headers)
    assert answer.status_code == 200
    expected = [SHOP, "https://m.example.com:8443", "http://127.0.0.1:8000"]
    assert answer.json == {"merchant_id": store.id, "origins": expected}
    assert listed(client, store.id, headers) == expected
    # The list is replaced as a whole; an empty one stops every embedding.
    assert put(client, store.id, [SHOP], headers).json["origins"] == [SHOP]
    assert put(client, store.id, [], headers).json["origins"] == []
    assert db.session.query(EmbedOrigin).count() == 0


@pytest.mark.parametrize(("origins", "field", "reason"), [
    ("https://shop.example.com", "origins", "invalid_type.list"),
    ([42], "origins.0", "invalid_type.text"),
    ([SHOP, "shop.example.com"], "origins.1", "invalid.origin"),
    (["ftp://shop.example.com"], "origins.0", "invalid.origin"),
    (["https://"], "origins.0", "invalid.origin"),
    (["https://user:pw@shop.example.com"], "origins.0", "invalid.origin"),
    (["https://shop.example.com:99999"], "origins.0", "invalid.origin"),
    (["https://sh<op>.example.com"], "origins.0", "invalid.origin"),
    (["https://shop.example.com/checkout"], "origins.0", "invalid.origin_path"),
    (["https://shop.example.com?x=1"], "origins.0", "invalid.origin_path"),
    (["http://shop.example.com"], "origins.0", "invalid.origin_scheme"),
    (["https://a\x00b.example.com"], "origins.0", "text.control_characters"),
    (["https://" + "a" * 250 + ".com"], "origins.0", "too_long"),
    ([f"https://s{i}.example.com" for i in range(21)], "origins", "invalid.origins_count"),
])
def test_a_bad_origin_is_refused_by_its_field_and_nothing_changes(client, db, owner, store, origins,
                                                                   field, reason):
    headers = bearer(make_token(owner))
    assert put(client, store.id, [SHOP], headers).status_code == 200
    answer = put(client, store.id, origins, headers)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["reason"] == reason and answer.json["error"]["field"] == field
    assert listed(client, store.id, headers) == [SHOP]


def test_http_is_for_localhost_outside_production_only():
    assert parse_origin("http://localhost:5173", "o", allow_http_localhost=True) == "http://localhost:5173"
    assert parse_origin("https://[::1]:8443", "o", allow_http_localhost=False) == "https://[::1]:8443"
    with pytest.raises(Exception) as refused:
        parse_origin("http://localhost:5173", "o", allow_http_localhost=False)
    assert refused.value.key == "invalid.origin_scheme"


def test_the_importing_client_may_set_it_and_no_one_else(client, db, store):
    importer, key = make_client(scopes=["merchants"])
    other, other_key = make_client(name="Shop B", scopes=["merchants"])
    narrow, narrow_key = make_client(name="Shop C", scopes=["bindings"])
    store.client_id, store.external_id = importer.id, "S-1"
    db.session.commit()
    assert put(client, store.id, [SHOP], bearer(key)).json["origins"] == [SHOP]
    assert client.get(f"/api/v1/merchants/{store.id}/embed-origins", headers=bearer(key)).status_code == 200
    # Another client's store is not revealed; a key without the scope is refused.
    assert put(client, store.id, [SHOP], bearer(other_key)).status_code == 404
    refused = put(client, store.id, [SHOP], bearer(narrow_key))
    assert refused.status_code == 403 and refused.json["error"]["reason"] == "forbidden.scope"


def test_strangers_are_refused(client, store):
    assert put(client, store.id, [SHOP], {}).status_code == 401
    other_owner = make_user("merchant")
    make_merchant(other_owner)
    assert put(client, store.id, [SHOP], bearer(make_token(other_owner))).status_code == 404
    staff = put(client, store.id, [SHOP], bearer(make_token(make_user("staff"))))
    assert staff.status_code == 403 and staff.json["error"]["reason"] == "forbidden.needs_merchant"
    assert client.get(f"/api/v1/merchants/{store.id + 1000}/embed-origins",
                      headers=bearer(make_token(other_owner))).status_code == 404


def test_the_settings_page_keeps_one_origin_per_line(client, db, owner, store):
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    page = client.get("/merchant/store/embed")
    assert page.status_code == 200 and f'data-merchant="{store.id}"' in page.text
    saved = client.post("/merchant/store/embed", data={"origins": f"{SHOP}\n\n  https://m.example.com \n"})
    assert saved.status_code == 302
    assert client.get("/merchant/store/embed").text.count("https://m.example.com") >= 1
    refused = client.post("/merchant/store/embed", data={"origins": "https://shop.example.com/cart"})
    assert refused.status_code == 422
    assert "&#39;https://shop.example.com/cart&#39; must be only the scheme" in refused.text
    assert [row.origin for row in db.session.query(EmbedOrigin).order_by(EmbedOrigin.id)] == [
        SHOP, "https://m.example.com"]


def test_production_refuses_http_even_for_localhost(app, client, db, owner, store):
    headers = bearer(make_token(owner))
    assert put(client, store.id, ["http://localhost:5173"], headers).status_code == 200
    app.config["REGISTRY_ENV"] = "production"
    try:
        answer = put(client, store.id, ["http://localhost:5173"], headers)
    finally:
        app.config["REGISTRY_ENV"] = "testing"
    assert answer.status_code == 422
    assert (answer.json["error"]["reason"], answer.json["error"]["field"]) == ("invalid.origin_scheme",
                                                                              "origins.0")
