"""Checking one request against a compiled operation, as openapi-core would, without asking it.

Each function answers only "certainly valid" (True, or the unmarshalled
body) or "not sure" (False, None): the caller then leaves the request to
openapi-core. Casting, the empty-query rule, booleans and format
unmarshalling follow openapi-core's own behaviour.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from openapi_core.util import BOOLEAN_FALSE_VALUES, BOOLEAN_TRUE_VALUES, forcebool

from twilio_sim.spec_operations import FORM, Operation, Parameter

BOOLEAN_WORDS = frozenset(BOOLEAN_TRUE_VALUES + BOOLEAN_FALSE_VALUES)


def _cast(kind: str, value: str):
    """openapi-core's cast of a form or query string to the schema type; raises ValueError."""
    if kind == "string":
        return value
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if value.lower() not in BOOLEAN_WORDS:
        raise ValueError(value)
    return bool(forcebool(value))


def _unmarshal(unmarshal, value):
    if unmarshal is None:
        return value
    try:
        return unmarshal(value)
    except (AttributeError, ValueError, TypeError):
        return value


def has_auth(request, scheme: str) -> bool:
    """Whether an `Authorization` header of `scheme` is present (its validity is the app's concern)."""
    header = request.headers.get("Authorization")
    if header is None:
        return False
    auth_type, space, _ = header.partition(" ")
    return bool(space) and auth_type.lower() == scheme


def parameter_ok(parameter: Parameter, variables: dict, args) -> bool:
    """Whether one path or query parameter is present-or-optional and valid."""
    source = variables if parameter.location == "path" else args
    if parameter.name not in source:
        return not parameter.required
    raw = source[parameter.name]
    if parameter.location == "query" and raw == "":
        # openapi-core refuses an empty query value (EmptyQueryParameterValue).
        return False
    try:
        value = _cast(parameter.value.kind, raw)
    except (ValueError, TypeError, AttributeError):
        return False
    return parameter.validator.is_valid(value)


def form_body(operation: Operation, request) -> dict | None:
    """The form body cast, validated and unmarshalled as openapi-core does, or None."""
    raw = request.get_data(cache=True)
    if not raw:
        # openapi-core skips an absent optional body: no required-property check.
        return None if operation.body_required else {}
    content_type = request.content_type or ""
    if request.method == "POST" and not content_type:
        content_type = FORM
    if content_type != FORM or operation.properties is None:
        return None
    try:
        form = _multi(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    body = {}
    try:
        for prop in operation.properties:
            values = form.get(prop.name)
            if values is None:
                continue
            value = prop.value
            if value is None:
                return None
            if value.kind == "array":
                body[prop.name] = [_cast(value.item_kind, item) for item in values]
            else:
                body[prop.name] = _cast(value.kind, values[0])
    except (ValueError, TypeError, AttributeError):
        return None
    if not operation.body_validator.is_valid(body):
        return None
    for prop in operation.properties:
        if prop.name not in body:
            continue
        if prop.value.kind == "array":
            body[prop.name] = [_unmarshal(prop.value.item_unmarshal, item) for item in body[prop.name]]
        else:
            body[prop.name] = _unmarshal(prop.value.unmarshal, body[prop.name])
    return body


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form
