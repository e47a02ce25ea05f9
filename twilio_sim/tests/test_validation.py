"""The fast spec check accepts only what openapi-core accepts, and returns the same body.

`validate_request` answers plainly valid requests from `spec_fastpath` (the
spec compiled per operation) and hands everything else to openapi-core. A
wrong fast path would silently let through what Twilio refuses, so these
tests hold it against openapi-core itself: on every operation of both specs,
and on generated requests full of wrong types, enums, formats and gaps.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sim_support import ACCOUNT_SID, SERVICE_SID, basic_auth
from twilio_sim.errors import TwilioError
from twilio_sim.spec_fastpath import METHODS
from twilio_sim.validation import (
    PRODUCTS,
    compiled_spec,
    spec_dict,
    validate_request,
    validate_with_openapi_core,
)

FORM = "application/x-www-form-urlencoded"
ACCOUNT = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
SERVICE = f"/v2/Services/{SERVICE_SID}"
SID_PATTERN = re.compile(r"^\^\(?([A-Z]{2})")


def operations() -> list[tuple[str, str, str]]:
    """(product, path template, method) for every operation of both specs."""
    found = []
    for name, product in PRODUCTS.items():
        for template, item in spec_dict(product.spec_file)["paths"].items():
            found += [(name, template, method) for method in METHODS if method in item]
    return found


def make_request(method: str, path: str, query=None, form=None, body: bytes | None = None,
                 content_type: str | None = None, auth: bool = True) -> Request:
    """A werkzeug request as the simulator's guard would receive it."""
    builder = EnvironBuilder(
        path=path,
        method=method.upper(),
        query_string=query,
        data=body if body is not None else form,
        content_type=content_type,
        headers=basic_auth() if auth else {},
    )
    return Request(builder.get_environ())


def typed(value):
    """`value` with every type spelled out: True == 1 == 1.0 must not pass for equal."""
    if isinstance(value, dict):
        return [(key, typed(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def reference(product: str, path: str, request: Request):
    """openapi-core's verdict: the body, or the refusal as (status, code, message)."""
    try:
        return typed(validate_with_openapi_core(PRODUCTS[product], path, request))
    except TwilioError as error:
        return (error.status, error.code, error.message)


def fast(product: str, path: str, request: Request):
    checked = compiled_spec(PRODUCTS[product]).check(path, request)
    return None if checked is None else typed(checked)


# ---------------------------------------------------------------------------
# One plainly valid request per operation, built from the spec.


def valid_string(schema: dict) -> str:
    if "enum" in schema:
        return schema["enum"][0]
    sid = SID_PATTERN.match(schema.get("pattern", ""))
    if sid:
        return sid.group(1) + "0123456789abcdef" * 2
    return {
        "date": "2024-05-01",
        "date-time": "2024-05-01T10:00:00Z",
        "uri": "https://example.com/hook",
        "http-method": "POST",
        "phone-number": "+15005550006",
        "iso-country-code": "US",
    }.get(schema.get("format"), "x")


def valid_value(schema: dict):
    kind = schema.get("type")
    if kind == "integer":
        return str(max(schema.get("minimum", 1), 1))
    if kind == "number":
        return "1.5"
    if kind == "boolean":
        return "true"
    if kind == "array":
        return [valid_string(schema.get("items", {}))]
    return valid_string(schema)


def valid_request(product: str, template: str, method: str) -> tuple[str, Request]:
    """`template` with every path variable filled, every required field given, a few optional ones."""
    compiled = compiled_spec(PRODUCTS[product])
    operation = compiled.spec["paths"][template][method]
    path, query = template, {}
    for parameter in operation.get("parameters", []):
        schema = compiled.deref(parameter["schema"])
        if parameter["in"] == "path":
            path = path.replace(f"{{{parameter['name']}}}", valid_string(schema))
        elif parameter["in"] == "query":
            query[parameter["name"]] = valid_value(schema)
    form = None
    content = operation.get("requestBody", {}).get("content", {})
    if FORM in content:
        schema = compiled.deref(content[FORM]["schema"])
        form = {name: valid_value(schema["properties"][name]) for name in schema.get("required", [])}
        # A few optional fields too; untyped ones (free JSON text) are left to openapi-core.
        typed_names = [name for name, prop in schema["properties"].items()
                       if "type" in prop and "type" in prop.get("items", {"type": None})]
        for name in typed_names[:6]:
            form.setdefault(name, valid_value(schema["properties"][name]))
    return path, make_request(method, "/" + product + path, query=query, form=form)


@pytest.mark.parametrize(("product", "template", "method"), operations())
def test_every_spec_operation_agrees_with_openapi_core(product, template, method):
    path, request = valid_request(product, template, method)
    expected = reference(product, path, request)
    got = fast(product, path, request)
    assert got is None or got == expected
    content = compiled_spec(PRODUCTS[product]).spec["paths"][template][method].get("requestBody", {})
    if isinstance(expected, list) and set(content.get("content", {FORM: None})) == {FORM}:
        # The fast path must serve every form operation, or it is only slower.
        assert got == expected


# ---------------------------------------------------------------------------
# The endpoints the simulator is busy with, one by one.

HOT = [
    ("api", "post", f"{ACCOUNT}/Calls.json",
     {"To": "+8613800138000", "From": "+15005550006", "Url": "http://127.0.0.1:5000/voice",
      "StatusCallbackEvent": ["initiated", "completed"], "Timeout": "30", "Record": "true"}, None),
    ("api", "get", f"{ACCOUNT}/Calls/CA{'0' * 32}.json", None, None),
    ("api", "get", f"{ACCOUNT}/Calls.json", None,
     {"To": "+8613800138000", "Status": "busy", "PageSize": "50", "StartTime": "2024-05-01T00:00:00Z"}),
    ("api", "post", f"{ACCOUNT}/Messages.json",
     {"To": "+8613800138000", "From": "+15005550006", "Body": "hi"}, None),
    ("api", "post", f"{ACCOUNT}/IncomingPhoneNumbers/PN{'0' * 32}.json",
     {"VoiceUrl": "http://x/y", "VoiceMethod": "GET"}, None),
    ("api", "get", f"{ACCOUNT}/IncomingPhoneNumbers.json", None, {"PhoneNumber": "+15005550006"}),
    ("verify", "post", f"{SERVICE}/Verifications", {"To": "+8613800138000", "Channel": "sms"}, None),
    ("verify", "post", f"{SERVICE}/VerificationCheck", {"To": "+8613800138000", "Code": "123456"}, None),
]


@pytest.mark.parametrize(("product", "method", "path", "form", "query"), HOT)
def test_busy_endpoints_take_the_fast_path_with_openapi_cores_result(product, method, path, form, query):
    request = make_request(method, "/" + product + path, query=query, form=form)
    expected = reference(product, path, request)
    assert isinstance(expected, list), expected
    assert fast(product, path, request) == expected


def test_form_values_come_back_typed_as_the_spec_says():
    body = validate_request(PRODUCTS["api"], f"{ACCOUNT}/Calls.json", make_request(
        "post", f"/api{ACCOUNT}/Calls.json",
        form={"To": "+8613800138000", "From": "+15005550006", "Url": "http://x/y", "Timeout": "30",
              "Record": "yes", "StatusCallbackEvent": ["initiated", "answered"], "Unknown": "dropped"},
    ))
    assert body == {"To": "+8613800138000", "From": "+15005550006", "Url": "http://x/y",
                    "StatusCallbackEvent": ["initiated", "answered"], "Record": True, "Timeout": 30}


@pytest.mark.parametrize(
    ("product", "method", "path", "form", "query", "expected"),
    [
        ("verify", "post", f"{SERVICE}/Verifications", {"Channel": "sms"}, None,
         (400, 60200, "Invalid parameter `To`: required")),
        ("api", "post", f"{ACCOUNT}/IncomingPhoneNumbers/PN{'0' * 32}.json", {"VoiceMethod": "PUT"}, None,
         (400, 20001, "Invalid parameter `VoiceMethod`")),
        ("api", "post", f"{ACCOUNT}/Calls.json",
         {"To": "+1", "From": "+1", "Url": "http://x/y", "Timeout": "soon"}, None,
         (400, 20001, "Invalid parameter `Timeout`")),
        ("api", "get", f"{ACCOUNT}/Calls.json", None, {"StartTime": "yesterday"},
         (400, 20001, "Invalid parameter `StartTime`")),
        ("api", "get", f"{ACCOUNT}/Calls.json", None, {"PageSize": "lots"},
         (400, 20001, "Invalid parameter `PageSize`")),
        ("api", "get", f"{ACCOUNT}/Calls/CA123.json", None, None, (400, 20001, "Invalid parameter `Sid`")),
        ("api", "get", f"{ACCOUNT}/Nothing.json", None, None, (404, 20404, "The requested resource")),
        ("api", "put", f"{ACCOUNT}/Messages.json", None, None, (405, 20004, "Method PUT not allowed")),
    ],
    ids=["required", "enum", "body-type", "query-format", "query-type", "path-pattern", "path", "method"],
)
def test_what_the_spec_refuses_is_refused_as_before(product, method, path, form, query, expected):
    request = make_request(method, "/" + product + path, query=query, form=form)
    assert fast(product, path, request) is None
    with pytest.raises(TwilioError) as refused:
        validate_request(PRODUCTS[product], path, request)
    error = refused.value
    assert (error.status, error.code) == expected[:2]
    assert error.message.startswith(expected[2])
    assert (error.status, error.code, error.message) == reference(product, path, request)


def test_missing_credentials_are_left_to_openapi_core():
    path = f"{SERVICE}/Verifications"
    request = make_request("post", "/verify" + path, form={"To": "+1", "Channel": "sms"}, auth=False)
    assert fast("verify", path, request) is None
    assert reference("verify", path, request) == (401, 20003, "Authenticate")


# ---------------------------------------------------------------------------
# Generated requests: the fast path may decline anything, but what it
# accepts openapi-core must accept, with the same body.

JUNK = st.sampled_from(["", "abc", "12", "-1", "0", "1.5", "1e3", "true", "Yes", "PUT", "１２", " 7", "1_000",
                        "2024-13-01", "2024-05-01", "2024-05-01T10:00:00Z", "http://x/y", "+15005550006"])
# The busy operations again, as templates, drawn as often as all the others together.
HOT_OPERATIONS = [
    ("api", "/2010-04-01/Accounts/{AccountSid}/Calls.json", "post"),
    ("api", "/2010-04-01/Accounts/{AccountSid}/Calls.json", "get"),
    ("api", "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "get"),
    ("api", "/2010-04-01/Accounts/{AccountSid}/Messages.json", "post"),
    ("api", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "post"),
    ("api", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "get"),
    ("verify", "/v2/Services/{ServiceSid}/Verifications", "post"),
    ("verify", "/v2/Services/{ServiceSid}/VerificationCheck", "post"),
]


def value_strategy(schema: dict):
    kind = schema.get("type")
    if "enum" in schema:
        plausible = st.sampled_from(schema["enum"])
    elif kind == "integer":
        plausible = st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40)).map(str)
    elif kind == "number":
        plausible = st.floats(allow_nan=False).map(str)
    elif kind == "boolean":
        plausible = st.sampled_from(["true", "false", "True", "on", "0", "maybe"])
    elif kind == "array":
        return st.lists(value_strategy(schema.get("items", {})), min_size=1, max_size=3)
    elif schema.get("format") == "date":
        plausible = st.dates().map(date.isoformat)
    elif schema.get("format") == "date-time":
        plausible = st.datetimes(min_value=datetime(1970, 1, 1)).map(lambda moment: moment.isoformat() + "Z")
    elif "pattern" in schema:
        plausible = st.from_regex(schema["pattern"], fullmatch=True)
    else:
        plausible = st.text(max_size=12)
    return st.one_of(plausible, plausible, JUNK)


@st.composite
def generated_requests(draw):
    every = st.sampled_from(operations())
    product, template, method = draw(st.one_of(st.sampled_from(HOT_OPERATIONS), every))
    compiled = compiled_spec(PRODUCTS[product])
    operation = compiled.spec["paths"][template][method]
    path = template
    query = {}
    for parameter in operation.get("parameters", []):
        schema = compiled.deref(parameter["schema"])
        if parameter["in"] == "path":
            value = draw(st.one_of(st.just(valid_string(schema)), value_strategy(schema)).filter(
                lambda text: "/" not in text and "?" not in text and "#" not in text))
            path = path.replace(f"{{{parameter['name']}}}", value)
        elif draw(st.booleans()):
            query[parameter["name"]] = draw(value_strategy(schema))
    form = {}
    content = operation.get("requestBody", {}).get("content", {})
    if FORM in content:
        schema = compiled.deref(content[FORM]["schema"])
        required = schema.get("required", [])
        for name, prop in schema["properties"].items():
            # Required fields: given half the time; optional ones: a quarter.
            if draw(st.booleans()) if name in required else draw(st.integers(0, 3)) == 0:
                form[name] = draw(value_strategy(prop))
        if draw(st.booleans()):
            form["NotInTheSpec"] = draw(JUNK)
    content_type = draw(st.sampled_from([None, None, None, FORM, FORM + "; charset=utf-8", "text/plain"]))
    request = make_request(method, "/" + product + path, query=query, form=form or None,
                           content_type=content_type if form else None)
    return product, path, request


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(generated_requests())
def test_fast_path_never_accepts_what_openapi_core_refuses(case):
    product, path, request = case
    got = fast(product, path, request)
    if got is not None:
        assert got == reference(product, path, request)
