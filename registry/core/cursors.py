"""Opaque page cursors over ids, one format for every list of the JSON API.

`encode(kind, id)` is a page's `next`: the position after the row with that id; `decode(kind,
value)` reads it back, or refuses (422 `invalid.cursor` naming `cursor`) what this API did not
give out for that list: another list's cursor, a forged one, an id out of range. `page` runs a
query for one page of such a list.
"""

from __future__ import annotations

import base64
import binascii

from registry.core.errors import InvalidInput
from registry.core.extensions import db
from registry.core.urls import parse_id

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
    found_id = parse_id(ident)
    if found != kind or found_id is None:
        raise InvalidInput("invalid.cursor", field="cursor")
    return found_id


def page(query, id_column, kind: str, cursor: str | None, per_page: int,
         ascending: bool = False) -> tuple[list, str | None]:
    """The rows of `query` on the page `cursor` names (the first for None), in id order (newest
    first unless `ascending`), and the `next` cursor (None on the last page)."""
    after = decode(kind, cursor)
    if after is not None:
        query = query.where(id_column > after if ascending else id_column < after)
    rows = list(db.session.scalars(
        query.order_by(id_column.asc() if ascending else id_column.desc()).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (encode(kind, getattr(rows[-1], id_column.key)) if more else None)
