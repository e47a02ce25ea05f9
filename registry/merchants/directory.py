"""The store directory: active stores found by name, verified ones marked, a page at a time.

Paged by keyset over (name, id), so a page is one index range however deep the
visitor goes, and a store added meanwhile never shifts the pages after it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from registry.core.extensions import db
from registry.core.urls import LARGEST_ID
from registry.merchants.models import Merchant
from registry.merchants.operations import PublicProfile, public_profile

PAGE_SIZE = 20
MAX_QUERY = 100


@dataclass(frozen=True)
class DirectoryPage:
    stores: list[PublicProfile]
    next_cursor: str | None


def _encode(name: str, merchant_id: int) -> str:
    return base64.urlsafe_b64encode(f"{name}|{merchant_id}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[str, int] | None:
    """The (name, id) a page starts after; an unreadable cursor starts from the top."""
    if not cursor:
        return None
    try:
        name, _, merchant_id = base64.urlsafe_b64decode(cursor[:400] + "===").decode().rpartition("|")
        merchant_id = int(merchant_id)
    except (ValueError, UnicodeDecodeError):
        return None
    # A forged cursor must not reach the database with what it refuses (a 500): a NUL in the
    # name (PostgreSQL text), an id past the column's integers.
    if "\x00" in name or not 0 <= merchant_id <= LARGEST_ID:
        return None
    return name, merchant_id


def _like_pattern(query: str) -> str:
    """`query` as a LIKE substring, its wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_stores(query: str = "", cursor: str | None = None, limit: int = PAGE_SIZE) -> DirectoryPage:
    """Active stores whose name contains `query` (any case), by name; `cursor` from the last page."""
    statement = (select(Merchant).where(Merchant.status == "active")
                 .options(selectinload(Merchant.numbers))
                 .order_by(Merchant.name, Merchant.id).limit(limit + 1))
    query = " ".join(query.split())[:MAX_QUERY]
    if query:
        statement = statement.where(Merchant.name.ilike(_like_pattern(query), escape="\\"))
    after = _decode(cursor)
    if after is not None:
        statement = statement.where(tuple_(Merchant.name, Merchant.id) > tuple_(*after))
    found = list(db.session.scalars(statement))
    more = len(found) > limit
    found = found[:limit]
    return DirectoryPage([public_profile(m) for m in found],
                         _encode(found[-1].name, found[-1].id) if more else None)
