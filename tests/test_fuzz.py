"""Property test: random input to every public form and endpoint never gives a 5xx.

`ROUTES` lists every route of the app (Twilio's webhooks excepted: they are
signed by Twilio and checked by their own tests) with the party that uses
it and the fields it reads: form fields for HTML posts, query parameters
for pages and searches, JSON fields for the API (from docs/interfaces.md).
`test_every_route_is_in_the_table` keeps the table complete: a new route
fails it until it is listed here.

Each field gets random text (all of Unicode: controls, lone surrogates,
long strings) or, in JSON, any shape (numbers, lists, nulls, objects); an
extra unknown field comes along now and then. Every answer must be below
500, and an API error must be a JSON `{"error": {"code", ...}}`.

`make test` runs a few examples per route with a fixed seed
(`FUZZ_EXAMPLES`, default 6, derandomized); `make fuzz` runs many more with
a new seed each time (`FUZZ_RANDOM=1`; a failure prints how to reproduce it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.complaints.operations import file_by_shopper
from registry.core.extensions import db as database
from registry.core.phones import get_cipher
from registry.webhooks.operations import create_endpoint, send_test
from tests.factories import (
    PASSWORD,
    bearer,
    make_binding,
    make_call_record,
    make_callable_merchant,
    make_client,
    make_number,
    make_proxy,
    make_shopper,
    make_shopper_token,
    make_token,
    make_user,
)
from tests.ops.support import stamped_at_head
from tests.pool_support import numbers_restored

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"

HOURS = ("mon_1_start", "mon_1_end", "sun_2_end")
FILTERS = ("merchant_id", "phone", "proxy_number", "call_sid", "order_ref", "kind", "status", "since",
           "until", "has_complaint", "cursor", "per_page")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # `{store}`, `{number}`, `{callback}`, `{record}`, `{complaint}`, `{client}`, `{binding}`,
    # `{proxy}`, `{endpoint}`, `{delivery}`: ids
    # anon, pending (a shopper waiting for a code), shopper, merchant, newcomer (no store), staff, admin,
    # integration (a marketplace back end's `rk_` key)
    who: str
    fields: tuple[str, ...] = ()

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


ROUTES = [
    # public pages and sign-in
    Route("GET", "/", "anon"), Route("GET", "/stores", "anon", ("q", "after")),
    Route("GET", "/stores/{store}", "anon"), Route("GET", "/lang/{text}", "anon", ("next",)),
    Route("GET", "/signup", "anon"), Route("POST", "/signup", "anon", ("email", "password", "confirm")),
    Route("GET", "/login", "anon", ("next",)), Route("POST", "/login", "anon", ("email", "password", "next")),
    Route("POST", "/logout", "anon"),
    Route("GET", "/set-password/{token}", "anon"),
    Route("POST", "/set-password/{token}", "anon", ("password", "confirm")),
    # shoppers
    Route("GET", "/shopper/phone", "anon", ("next",)),
    Route("POST", "/shopper/phone", "anon", ("phone", "next")),
    Route("GET", "/shopper/code", "pending", ("next",)),
    Route("POST", "/shopper/code", "pending", ("code", "next")),
    Route("POST", "/shopper/code/resend", "pending", ("next",)),
    Route("GET", "/stores/{store}/callback", "shopper"),
    Route("POST", "/stores/{store}/callback", "shopper", ("when", "order_ref", "note")),
    Route("GET", "/callbacks/{callback}", "shopper"),
    Route("POST", "/callbacks/{callback}/cancel", "shopper"),
    Route("GET", "/callbacks/{callback}/complaint", "shopper"),
    Route("POST", "/callbacks/{callback}/complaint", "shopper", ("category", "text")),
    # merchants
    Route("GET", "/merchant/", "merchant"), Route("GET", "/merchant/calls", "merchant", ("cursor",)),
    Route("GET", "/merchant/calls/{record}/complaint", "merchant"),
    Route("POST", "/merchant/calls/{record}/complaint", "merchant", ("category", "text")),
    Route("GET", "/merchant/store/new", "newcomer"),
    Route("POST", "/merchant/store/new", "newcomer", ("name", "timezone", *HOURS)),
    Route("GET", "/merchant/store", "merchant"),
    Route("POST", "/merchant/store", "merchant", ("name", "timezone", *HOURS)),
    Route("GET", "/merchant/numbers/new", "merchant"),
    Route("POST", "/merchant/numbers/new", "merchant", ("number", "region", "label")),
    Route("GET", "/merchant/numbers/{number}", "merchant"),
    Route("GET", "/merchant/store/embed", "merchant"),
    Route("POST", "/merchant/store/embed", "merchant", ("origins",)),
    Route("POST", "/merchant/numbers/{number}/code", "merchant"),
    Route("POST", "/merchant/numbers/{number}/check", "merchant", ("code",)),
    # staff
    Route("GET", "/staff/", "staff"), Route("GET", "/staff/audit", "staff", ("before",)),
    Route("POST", "/staff/chain/verify", "staff"),
    Route("GET", "/staff/callbacks/{callback}", "staff"), Route("GET", "/staff/calls", "staff", FILTERS),
    Route("GET", "/staff/calls/export", "staff", FILTERS), Route("GET", "/staff/calls/{record}", "staff"),
    Route("GET", "/staff/calls/{record}/recording", "staff"),
    Route("GET", "/staff/calls/{record}/reveal", "staff"),
    Route("POST", "/staff/calls/{record}/reveal", "staff", ("side", "reason")),
    Route("GET", "/staff/complaints", "staff", ("status", "before")),
    Route("GET", "/staff/complaints/{complaint}", "staff"),
    Route("POST", "/staff/complaints/{complaint}/assign", "staff"),
    Route("POST", "/staff/complaints/{complaint}/resolve", "staff", ("action", "resolution")),
    Route("GET", "/staff/clients/", "admin"), Route("POST", "/staff/clients/", "admin", ("name", "scopes")),
    Route("POST", "/staff/clients/{client}/revoke", "admin"),
    Route("GET", "/staff/pool/", "admin", ("country", "type", "area_code", "contains")),
    Route("POST", "/staff/pool/buy", "admin", ("phone_number",)),
    Route("POST", "/staff/pool/{proxy}/drain", "admin"),
    Route("POST", "/staff/pool/{proxy}/release", "admin"),
    Route("GET", "/staff/webhooks/", "admin", ("endpoint_id",)),
    Route("POST", "/staff/webhooks/deliveries/{delivery}/redeliver", "admin"),
    Route("GET", "/staff/imports/", "admin"),
    Route("POST", "/staff/imports/preview", "admin", ("client_id", "file")),
    Route("POST", "/staff/imports/apply", "admin", ("client_id", "packed")),
    # the JSON API
    Route("POST", "/api/v1/accounts", "anon", ("email", "password")),
    Route("POST", "/api/v1/auth/token", "anon", ("email", "password")),
    Route("POST", "/api/v1/merchants", "newcomer", ("name", "timezone", "business_hours")),
    Route("GET", "/api/v1/merchants/{store}", "anon"),
    Route("POST", "/api/v1/merchants/{store}/numbers", "merchant", ("number", "region", "label")),
    Route("GET", "/api/v1/merchants/{store}/numbers", "merchant"),
    Route("POST", "/api/v1/numbers/{number}/verification", "merchant", ("channel",)),
    Route("POST", "/api/v1/numbers/{number}/verification/check", "merchant", ("code",)),
    Route("POST", "/api/v1/shopper/verification", "anon", ("phone",)),
    Route("POST", "/api/v1/shopper/verification/check", "anon", ("phone", "code")),
    Route("GET", "/api/v1/merchants/{store}/callback-slots", "shopper"),
    Route("POST", "/api/v1/merchants/{store}/callbacks", "shopper", ("when", "order_ref", "note")),
    Route("GET", "/api/v1/callbacks/{callback}", "shopper"),
    Route("DELETE", "/api/v1/callbacks/{callback}", "shopper"),
    Route("GET", "/api/v1/call-records", "staff", FILTERS),
    Route("GET", "/api/v1/call-records/{record}", "staff"),
    Route("POST", "/api/v1/call-records/{record}/reveal", "staff", ("side", "reason")),
    Route("POST", "/api/v1/complaints", "shopper",
          ("call_record_id", "callback_request_id", "category", "text")),
    Route("POST", "/api/v1/complaints", "merchant", ("call_record_id", "category", "text")),
    Route("GET", "/api/v1/complaints", "staff", ("status",)),
    Route("POST", "/api/v1/complaints/{complaint}/assign", "staff"),
    Route("POST", "/api/v1/complaints/{complaint}/resolve", "staff", ("action", "resolution")),
    Route("GET", "/api/v1/integration/whoami", "integration"),
    Route("GET", "/api/v1/proxy-numbers", "admin", ("cursor", "per_page")),
    Route("POST", "/api/v1/proxy-numbers/search", "admin", ("country", "type", "area_code", "contains")),
    Route("POST", "/api/v1/proxy-numbers", "admin", ("phone_number",)),
    Route("POST", "/api/v1/proxy-numbers/{proxy}/drain", "admin"),
    Route("DELETE", "/api/v1/proxy-numbers/{proxy}", "admin"),
    Route("GET", "/api/v1/merchants/{store}", "integration"),
    Route("GET", "/api/v1/merchants/{store}/embed-origins", "merchant"),
    Route("PUT", "/api/v1/merchants/{store}/embed-origins", "merchant", ("origins",)),
    Route("PUT", "/api/v1/merchants/{store}/embed-origins", "integration", ("origins",)),
    # the embeddable callback button: its script and the flow it frames
    Route("GET", "/embed/v1/callback.js", "anon"),
    Route("GET", "/embed/v1/merchants/{store}/callback", "anon", ("origin", "lang", "order_ref")),
    # the API's description and its reader
    Route("GET", "/api/v1/openapi.json", "anon"), Route("GET", "/api/docs", "anon"),
    # operations: probes and the Prometheus scrape (docs/operations.md)
    Route("GET", "/healthz", "anon"), Route("GET", "/readyz", "anon"), Route("GET", "/metrics", "anon"),
    Route("POST", "/api/v1/bindings", "integration",
          ("merchant_id", "merchant_external_id", "shopper_phone", "order_ref", "ttl_hours")),
    Route("GET", "/api/v1/bindings", "integration",
          ("order_ref", "merchant_id", "status", "cursor", "per_page")),
    Route("GET", "/api/v1/bindings/{binding}", "integration"),
    Route("DELETE", "/api/v1/bindings/{binding}", "integration"),
    Route("POST", "/api/v1/callbacks", "integration",
          ("merchant_id", "merchant_external_id", "shopper_phone", "when", "order_ref", "note")),
    Route("GET", "/api/v1/callbacks/{callback}", "integration"),
    Route("DELETE", "/api/v1/callbacks/{callback}", "integration"),
    # outbound webhooks (registry/webhooks), scope `webhooks`
    Route("POST", "/api/v1/webhook-endpoints", "integration", ("url", "events", "description")),
    Route("GET", "/api/v1/webhook-endpoints", "integration"),
    Route("GET", "/api/v1/webhook-endpoints/{endpoint}", "integration"),
    Route("PATCH", "/api/v1/webhook-endpoints/{endpoint}", "integration", ("url", "events", "enabled")),
    Route("DELETE", "/api/v1/webhook-endpoints/{endpoint}", "integration"),
    Route("POST", "/api/v1/webhook-endpoints/{endpoint}/test", "integration"),
    Route("POST", "/api/v1/webhook-endpoints/{endpoint}/rotate-secret", "integration"),
    Route("GET", "/api/v1/webhook-endpoints/{endpoint}/deliveries", "integration", ("cursor", "per_page")),
    Route("POST", "/api/v1/webhook-deliveries/{delivery}/retry", "integration"),
    # a recording through the signed link of a `recording.ready` event (no key: the link is it)
    Route("GET", "/api/v1/recordings/{token}", "anon"),
    Route("POST", "/api/v1/recordings/{token}/renew", "integration"),
    # the merchant import (scope merchants)
    Route("GET", "/api/v1/merchants/by-external-id/{external}", "integration"),
    Route("POST", "/api/v1/merchants/import", "integration",
          ("external_id", "name", "timezone", "business_hours", "owner_email", "number", "label")),
]

# -- what is sent ------------------------------------------------------------------------

# All of Unicode, surrogates included (st.text() leaves them out by default), and strings a
# field might half-accept, so the input also gets past the first checks.
CHARACTERS = st.characters(exclude_categories=())
SPECIAL = st.sampled_from([
    "", " ", "\x00", "\ud800", "\t", "\r\n", "\u2028", "asap", "+8613800138000", "13800138000", "123456",
    "2026-11-23T10:00:00+08:00", "2026-11-23", "0001-01-01", "09:00", "24:00", "25:99", "Asia/Shanghai",
    "Mars/Olympus", "CN", "ZZ", "sms", "call", "from", "to", "rude", "none", "block_shopper",
    "suspend_number", "true", "0", "1", "-1", "2147483648", "99999999999999999999", "9" * 5000, "²",
    "١٢", "%", "_", "\\", "' OR 1=1 --", "a" * 10, "a@example.com", "x" * 600, "ＡＢＣ"])
# Text without controls or surrogates too, so that what follows the text check is reached.
PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))
TEXT = st.one_of(
    SPECIAL, SPECIAL,
    st.text(CHARACTERS, max_size=40), st.text(PRINTABLE, max_size=40),
    st.builds(lambda a, b: a + b, SPECIAL, st.text(PRINTABLE, max_size=4)),
    st.text(st.one_of(CHARACTERS, PRINTABLE), min_size=200, max_size=3000),
)
INTEGERS = st.one_of(st.integers(), st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63) - 1, 10**30]))
JSON_SCALAR = st.one_of(st.none(), st.booleans(), INTEGERS, st.floats(), TEXT, TEXT)
JSON_VALUE = st.recursive(
    JSON_SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
EXTRA = st.one_of(st.just({}), st.just({}), st.just({}), st.dictionaries(st.text(CHARACTERS, max_size=12),
                                                                          TEXT, min_size=1, max_size=1))
MISSING = object()


def fields_of(route: Route, value):
    """Most of `route`'s fields with random values, and now and then an unknown one."""
    field = st.one_of(value, value, value, st.just(MISSING))
    known = st.fixed_dictionaries({name: field for name in route.fields})
    return st.builds(lambda known, extra: {**extra, **{k: v for k, v in known.items() if v is not MISSING}},
                     known, EXTRA)


def json_bodies(route: Route):
    body = fields_of(route, JSON_VALUE).map(lambda b: json.dumps(b).encode())
    odd = st.one_of(JSON_VALUE.map(lambda v: json.dumps(v).encode()), st.binary(max_size=50))
    return st.one_of(body, body, body, odd)


def encode(values: dict) -> str:
    """A query string or form body; surrogates go as the bytes they would be (invalid UTF-8)."""
    return urlencode(values, encoding="utf-8", errors="surrogatepass")


# -- who sends it ------------------------------------------------------------------------


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def world(app, simulator):
    """A store with a verified and an unverified number, a shopper's callback, a call, a complaint,
    a proxy number (what the pool routes buy at the simulator is given back afterwards)."""
    with numbers_restored(simulator.state), stamped_at_head(app):  # /readyz: ready, 200
        yield _world(app)


def _world(app):
    store = make_callable_merchant()
    number = make_number(store, "+8613800138001")
    shopper = make_shopper()
    policy = CallbackPolicy.from_config(app.config)
    callback = request_callback(shopper, store.id, "asap", "A-77", None, policy)
    database.session.commit()
    record = make_call_record(store, callback_request_id=callback.id)
    complaint = file_by_shopper(shopper, None, callback.id, "rude", "The store shouted.")
    database.session.commit()
    from registry.accounts.models import User

    users = {"merchant": database.session.get(User, store.owner_id), "newcomer": make_user("merchant"),
             "staff": make_user("staff"), "admin": make_user("admin")}
    integration, key = make_client(scopes=["bindings", "callbacks", "webhooks", "merchants"])
    make_proxy("+8613900000001")
    proxy = make_proxy("+8613900000077")
    binding = make_binding(merchant_id=store.id)
    binding.client_id = integration.id
    endpoint, _ = create_endpoint(integration.id, "http://127.0.0.1:9/hook", ["callback.completed"], None,
                                  app.config)
    delivery = send_test(integration.id, endpoint.id)
    database.session.commit()
    ids = {"store": store.id, "number": number.id, "callback": callback.id, "record": record.id,
           "complaint": complaint.id, "client": integration.id, "binding": binding.id, "proxy": proxy.id,
           "endpoint": endpoint.id, "delivery": delivery.id, "external": "shop-1", "token": "not-a-token"}
    tokens = {who: bearer(make_token(user)) for who, user in users.items()}
    tokens["integration"] = bearer(key)
    tokens["shopper"] = bearer(make_shopper_token(shopper))
    browsers = {}
    for who, user in users.items():  # signed in once: each sign-in hashes a password
        browsers[who] = app.test_client()
        response = browsers[who].post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    return {"ids": ids, "tokens": tokens, "browsers": browsers, "shopper": shopper.id}


def client_for(app, world, route: Route):
    """The client `route`'s party uses, and the headers it sends."""
    if route.api:
        return app.test_client(), world["tokens"].get(route.who, {})
    if route.who in world["browsers"]:
        return world["browsers"][route.who], {}
    client = app.test_client()
    if route.who in ("shopper", "pending"):
        with client.session_transaction() as session:
            if route.who == "shopper":
                session["shopper_id"] = world["shopper"]
            else:
                session["shopper_pending_phone"] = get_cipher().encrypt("+8613700137000")
    return client, {}


def send(app, world, route: Route, data):
    path_text = data.draw(TEXT) if "{text}" in route.path else ""
    path = route.path.format(**world["ids"], text=quote(path_text, safe="", errors="surrogatepass"))
    client, headers = client_for(app, world, route)
    if route.api and route.method in ("POST", "PUT", "DELETE") and route.fields:
        body = data.draw(json_bodies(route))
        return client.open(path, method=route.method, data=body, headers=headers,
                           content_type="application/json")
    values = data.draw(fields_of(route, TEXT))
    if route.method == "GET" or route.api:
        return client.open(f"{path}?{encode(values)}", method=route.method, headers=headers)
    return client.open(path, method=route.method, data=encode(values), headers=headers,
                       content_type="application/x-www-form-urlencoded")


def check(route: Route, response) -> None:
    where = f"{route.method} {route.path} as {route.who}"
    answer = response.get_data(as_text=True)[:300]
    assert response.status_code < 500, f"{where}: {response.status_code} {answer}"
    if route.api and response.status_code >= 400:
        assert response.is_json and "code" in response.json.get("error", {}), \
            f"{where}: {response.status_code} without a JSON error body"


# -- the properties ----------------------------------------------------------------------


def test_every_route_is_in_the_table(app):
    listed = {(r.method, r.path.replace("{text}", "<code>")) for r in ROUTES}
    names = {"store": "merchant_id", "number": "number_id", "callback": "request_id", "record": "record_id",
             "complaint": "complaint_id", "client": "client_id", "binding": "binding_id",
             "proxy": "proxy_id", "endpoint": "endpoint_id", "delivery": "delivery_id",
             "external": "external_id", "token": "token"}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/webhooks/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            template = rule.rule
            for name, arg in names.items():
                for converter in ("int:", ""):
                    template = template.replace(f"<{converter}{arg}>", f"{{{name}}}")
            if (method, template) not in listed:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"add these routes to ROUTES: {missing}"


def fuzzer(app, world, route: Route):
    """A Hypothesis test sending random input to `route`."""

    @settings(max_examples=EXAMPLES, derandomize=not RANDOM, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(data=st.data())
    def fuzz(data):
        check(route, send(app, world, route, data))

    return fuzz


def test_random_input_never_gives_a_server_error(app, world):
    failures = []
    for route in ROUTES:
        try:
            fuzzer(app, world, route)()
        except AssertionError as error:  # every route gets its turn; all failures are reported
            failures.append(str(error).splitlines()[0])
    assert not failures, "\n".join(failures)
