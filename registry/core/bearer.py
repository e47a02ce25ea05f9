"""The `Authorization: Bearer` token of a request, and which kind of caller it names.

Three kinds of bearer tokens reach the API: a user's (from `POST /api/v1/auth/token`), a
shopper's (`s_…`, from the code check) and an integration client's key (`rk_…`). Each is
authenticated by its own package; the prefixes keep them apart, so a token is only ever
looked up where it belongs.
"""

from __future__ import annotations

from flask import request

CLIENT_KEY_PREFIX = "rk_"
SHOPPER_TOKEN_PREFIX = "s_"  # noqa: S105 - a prefix, not a secret


def bearer_token() -> str | None:
    """The request's bearer token, stripped, or None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def is_client_key(token: str) -> bool:
    """Whether a bearer token is meant as an integration key (rather than a user's token)."""
    return token.startswith(CLIENT_KEY_PREFIX)
