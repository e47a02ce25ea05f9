"""Helpers for the JSON API views: reading a request body strictly."""

from __future__ import annotations

from typing import Any

from flask import request

from registry.core.errors import BadRequest
from registry.core.text import check_json


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
