"""Opaque page cursors over ids, one format for every list of the JSON API.

`encode(kind, id)` is a page's `next`: the position after the row with that id; `decode(kind,
value)` reads it back, or refuses (422 `invalid.cursor` naming `cursor`) what this API did not
give out for that list: another list's cursor, a forged one, an id out of range.
"""

from __future__ import annotations

import base64
import binascii

from registry.core.errors import InvalidInput
from registry.core.urls import LARGEST_ID

MAX_LENGTH = 40


def encode(kind: str, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{ident}".encode()).decode().rstrip("=")


def decode(kind: str, value: str | None) -> int | None:
    """The id `value` names for the list `kind`; None for no cursor (the first page)."""
    if value in (None, ""):
        return None
    try:
        found, _, ident = base64.urlsafe_b64decode(value[:MAX_LENGTH] + "===").decode().partition("|")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("invalid.cursor", field="cursor") from None
    if found != kind or not (ident.isascii() and ident.isdigit()) or not 0 < int(ident) <= LARGEST_ID:
        raise InvalidInput("invalid.cursor", field="cursor")
    return int(ident)
