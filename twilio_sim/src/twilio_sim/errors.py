"""Twilio's error bodies, so the SDK raises `TwilioRestException` as it would in production.

Twilio answers every refusal with JSON `{"code", "message", "more_info",
"status"}`; the SDK copies `code` and `message` into the exception it raises,
and the product decides what to do from `code` (60202, 60203, 21211, ...).
"""

from __future__ import annotations

from flask import Response, jsonify


class TwilioError(Exception):
    """A refusal answered with Twilio's JSON error body and HTTP status."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> Response:
        """The Flask response Twilio would send for this error."""
        response = jsonify(
            code=self.code,
            message=self.message,
            more_info=f"https://www.twilio.com/docs/errors/{self.code}",
            status=self.status,
        )
        response.status_code = self.status
        return response


def authenticate_error() -> TwilioError:
    """Missing or wrong credentials (Twilio 20003)."""
    return TwilioError(401, 20003, "Authenticate")


def not_found(path: str) -> TwilioError:
    """An unknown resource (Twilio 20404), naming the path like Twilio does."""
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def invalid_parameter(code: int, name: str, detail: str | None = None) -> TwilioError:
    """A 400 for one bad parameter; the message names it."""
    message = f"Invalid parameter `{name}`"
    if detail:
        message += f": {detail}"
    return TwilioError(400, code, message)
