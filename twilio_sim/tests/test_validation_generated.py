"""Generated requests: the fast path may decline anything, but what it accepts openapi-core
must accept, with the same body (see test_validation.py for the hand-made cases)."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec_support import FORM, fast, make_request, operations, reference, valid_string
from twilio_sim.validation import PRODUCTS, compiled_spec

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
