"""Helpers for the JSON API views: reading bodies and fields strictly."""

from __future__ import annotations

from typing import Any

from flask import request

from registry.core.errors import BadRequest, InvalidInput
from registry.core.text import check_json

MAX_TEXT_LENGTH = 200


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 if the body is not one.

    Every string in it, however deep, is checked for control characters
    (`core.text`): a 422 names the field by its path.
    """
    if not request.is_json:
        raise BadRequest("not_json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a body any endpoint takes
        body = None
    if not isinstance(body, dict):
        raise BadRequest("malformed_json")
    return check_json(body)


def text_field(
    body: dict, name: str, *, required: bool = True, max_length: int = MAX_TEXT_LENGTH
) -> str | None:
    """A string field: present if required, a string, not blank, not too long."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput("required", field=name, name=name)
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid_type", field=name, name=name)
    if len(value) > max_length:
        raise InvalidInput("too_long", field=name, name=name, limit=max_length)
    if required and not value.strip():
        raise InvalidInput("required.not_empty", field=name, name=name)
    return value
