"""The fast spec check accepts only what openapi-core accepts, and returns the same body.

`validate_request` answers plainly valid requests from `spec_fastpath` (the
spec compiled per operation) and hands everything else to openapi-core. A
wrong fast path would silently let through what Twilio refuses, so these
tests hold it against openapi-core itself: on every operation of both specs
here, and on generated requests full of wrong types, enums, formats and gaps
in test_validation_generated.py.
"""

from __future__ import annotations

import pytest

from sim_support import ACCOUNT_SID, SERVICE_SID
from spec_support import FORM, fast, make_request, operations, reference, valid_request
from twilio_sim.errors import TwilioError
from twilio_sim.validation import PRODUCTS, compiled_spec, validate_request

ACCOUNT = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
SERVICE = f"/v2/Services/{SERVICE_SID}"


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
