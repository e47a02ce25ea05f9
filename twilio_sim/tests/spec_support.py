"""Requests for the spec checks, built from Twilio's specs, and the two verdicts to compare.

Shared by test_validation.py (one plainly valid request per operation, the
busy endpoints, refusals) and test_validation_generated.py (generated
requests): `reference` is openapi-core's verdict, `fast` the fast path's.
"""

from __future__ import annotations

import re

from openapi_core.datatypes import RequestParameters
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sim_support import basic_auth
from twilio_sim.errors import TwilioError
from twilio_sim.spec_fastpath import METHODS
from twilio_sim.validation import PRODUCTS, compiled_spec, spec_dict, validate_with_openapi_core

FORM = "application/x-www-form-urlencoded"
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
    """The fast path's verdict: the body, typed, or None where it leaves the request to openapi-core."""
    checked = compiled_spec(PRODUCTS[product]).check(path, request)
    return None if checked is None else typed(checked)


def valid_string(schema: dict) -> str:
    """A string `schema` accepts: its first enum value, a SID of its prefix, or one of its format."""
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
    """A form or query value `schema` accepts, as a request spells it (a string, or a list for arrays)."""
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


class _SpecResponse:
    """A response as openapi-core reads it."""

    def __init__(self, response):
        self.data = response.get_data()
        self.status_code = response.status_code
        self.content_type = response.content_type
        self.headers = response.headers


def assert_response_matches_spec(product: str, path: str, response, method: str = "get") -> None:
    """The simulator's `response` to `method` `path` (product-relative) is what Twilio's spec
    describes: its status declared, its body valid against that status's schema."""
    from twilio_sim.validation import _SpecRequest, load_spec

    request = _SpecRequest(host_url=PRODUCTS[product].host_url, path=path, method=method, body=b"",
                           content_type="application/octet-stream",
                           parameters=RequestParameters())
    load_spec(PRODUCTS[product].spec_file).validate_response(request, _SpecResponse(response))
