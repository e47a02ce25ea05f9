"""Checking each request against Twilio's official OpenAPI description of its product.

The simulator is only useful if what it accepts, Twilio accepts: a request
the app builds wrongly (a missing `To`, a method on the wrong path, a
`VoiceMethod` of "PUT") must fail here, in development, not in production.
So every REST request is validated with openapi-core against the spec of
its product (copied unchanged into `specs/`), as if it had been sent to
Twilio's own host, before any simulated behaviour runs.

openapi-core costs ~10 ms of CPU per request, so a request it would plainly
accept goes through `spec_fastpath` instead (the same spec, compiled once
per operation, ~0.1 ms); anything else, every refusal included, is still
decided and worded by openapi-core. `python -m bench.simulator_validation`
prints both costs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.exceptions import (
    ParameterValidationError,
    SecurityValidationError,
)
from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.wrappers import Request

from twilio_sim.errors import (
    TwilioError,
    authenticate_error,
    invalid_parameter,
    not_found,
)
from twilio_sim.spec_fastpath import CompiledSpec

SPEC_DIR = Path(__file__).parent / "specs"


@dataclass(frozen=True)
class Product:
    """A Twilio product the simulator serves under `/<name>/`."""

    name: str
    spec_file: str
    host_url: str
    # The code Twilio uses for "invalid parameter" in this product.
    invalid_parameter_code: int


PRODUCTS = {
    "verify": Product("verify", "twilio_verify_v2.json", "https://verify.twilio.com", 60200),
    "api": Product("api", "twilio_api_v2010.json", "https://api.twilio.com", 20001),
}

FORM = "application/x-www-form-urlencoded"
# Formats Twilio's specs name but do not define. openapi-core refuses a
# parameter whose schema has a format it does not know (python-openapi/
# openapi-core#515), so each is registered as "any string": Twilio itself
# accepts partial numbers, "client:" addresses and the like in these fields.
TWILIO_FORMATS = (
    "currency",
    "date-time-rfc-2822",
    "endpoint",
    "http-method",
    "ice-server",
    "iso-country-code",
    "phone-number",
    "phone-number-capabilities",
    "twiml",
    "uri-map",
)


def _any_string(value) -> bool:
    return True


FORMAT_VALIDATORS = {name: _any_string for name in TWILIO_FORMATS}
REQUIRED_PROPERTY = re.compile(r"'([^']+)' is a required property")


@cache
def spec_dict(spec_file: str) -> dict:
    """One spec file as parsed JSON, read once per process.

    Parsed as JSON, not YAML: its escaped emoji trip the YAML loader.
    """
    with open(SPEC_DIR / spec_file, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def load_spec(spec_file: str) -> OpenAPI:
    """The openapi-core object for one spec file, loaded once per process.

    Not self-validated: Twilio publishes the spec validated, and checking it
    again costs most of a second per load.
    """
    config = Config(spec_validator_cls=None, extra_format_validators=FORMAT_VALIDATORS)
    return OpenAPI.from_dict(spec_dict(spec_file), config=config)


@cache
def compiled_spec(product: Product) -> CompiledSpec:
    """The fast path for one product, with the format checker openapi-core would build."""
    format_checker = oas30_write_schema_validators_factory.get_format_checker(None, FORMAT_VALIDATORS)
    return CompiledSpec(spec_dict(product.spec_file), product.host_url, format_checker)


@dataclass
class _SpecRequest:
    """The request as openapi-core sees it: moved to Twilio's own host."""

    host_url: str
    path: str
    method: str
    body: bytes
    content_type: str
    parameters: RequestParameters


def validate_request(product: Product, path: str, request: Request) -> dict:
    """Validate `request` (at product-relative `path`) and return its typed form body.

    Raises `TwilioError`: 404 for a path the product does not have, 405 for
    a method the path does not allow, 400 naming the first bad parameter.
    """
    params = compiled_spec(product).check(path, request)
    if params is not None:
        return params
    return validate_with_openapi_core(product, path, request)


def validate_with_openapi_core(product: Product, path: str, request: Request) -> dict:
    """`validate_request` decided by openapi-core alone: the reference, and every refusal."""
    content_type = request.content_type or ""
    if request.method == "POST" and not content_type:
        # The SDK sends an empty POST (an update changing nothing) without
        # a Content-Type; Twilio reads it as an empty form.
        content_type = FORM
    spec_request = _SpecRequest(
        host_url=product.host_url,
        path=path,
        method=request.method.lower(),
        body=request.get_data(cache=True),
        content_type=content_type or "application/octet-stream",
        parameters=RequestParameters(
            query=ImmutableMultiDict(request.args),
            header=Headers(request.headers),
            cookie=ImmutableMultiDict(),
        ),
    )
    result = load_spec(product.spec_file).unmarshal_request(spec_request)
    if result.errors:
        raise _twilio_error(result.errors[0], product, path, request)
    return dict(result.body or {})


def _twilio_error(error: Exception, product: Product, path: str, request: Request) -> TwilioError:
    """Translate an openapi-core error into the refusal Twilio would give."""
    code = product.invalid_parameter_code
    if isinstance(error, PathNotFound):
        return not_found(path)
    if isinstance(error, OperationNotFound):
        return TwilioError(405, 20004, f"Method {request.method} not allowed on {path}")
    if isinstance(error, SecurityValidationError):
        return authenticate_error()
    if isinstance(error, ParameterValidationError):
        return invalid_parameter(code, error.name, _schema_detail(error.__cause__))
    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        name, detail = _first_schema_problem(cause)
        return invalid_parameter(code, name, detail)
    if isinstance(cause, CastError):
        name = _form_name_of(request, cause.value)
        return invalid_parameter(code, name, f"expected {cause.type}, got {cause.value!r}")
    return TwilioError(400, code, f"Invalid request: {error}")


def _first_schema_problem(error: InvalidSchemaValue) -> tuple[str, str]:
    """(parameter name, what is wrong) from a body's schema errors."""
    for problem in error.schema_errors:
        message = getattr(problem, "message", str(problem))
        if getattr(problem, "validator", None) == "required":
            match = REQUIRED_PROPERTY.search(message)
            if match:
                return match.group(1), "required"
        location = list(getattr(problem, "path", []) or [])
        if location:
            return str(location[0]), message
    return "body", str(error)


def _schema_detail(error: BaseException | None) -> str | None:
    """The first jsonschema message behind a parameter error, if any."""
    if isinstance(error, InvalidSchemaValue):
        for problem in error.schema_errors:
            return getattr(problem, "message", str(problem))
    if isinstance(error, CastError):
        return f"expected {error.type}, got {error.value!r}"
    return None


def _form_name_of(request: Request, value: object) -> str:
    """The form field that carried `value` (cast errors do not name it)."""
    for name, candidate in request.form.items(multi=True):
        if candidate == value:
            return name
    return "body"
