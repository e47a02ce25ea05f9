"""Helpers for the JSON API views: reading bodies and fields strictly."""

from __future__ import annotations

from typing import Any

from flask import request

from registry.core.errors import BadRequest, InvalidInput

MAX_TEXT_LENGTH = 200


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 if the body is not one."""
    if not request.is_json:
        raise BadRequest("Send a JSON body with Content-Type: application/json.", code="not_json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    return body


def text_field(
    body: dict, name: str, *, required: bool = True, max_length: int = MAX_TEXT_LENGTH
) -> str | None:
    """A string field: present if required, a string, not blank, not too long."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required.", field=name, code="required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.", field=name, code="invalid_type")
    if len(value) > max_length:
        raise InvalidInput(
            f"'{name}' must be at most {max_length} characters.", field=name, code="too_long"
        )
    if required and not value.strip():
        raise InvalidInput(f"'{name}' must not be empty.", field=name, code="required")
    return value
