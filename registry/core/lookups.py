"""Fetching a row by id for someone who asked for it: the row, or a 404 naming what is missing.

A row the asker may not see is refused exactly as one that does not exist, so its existence
is never revealed (`visible`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from registry.core.errors import NotFound
from registry.core.extensions import db

Row = TypeVar("Row")


def get_or_refuse(model: type[Row], ident: int, key: str,
                  visible: Callable[[Row], bool] | None = None) -> Row:
    """The `model` row with primary key `ident`; `NotFound(key)` if there is none or the asker
    may not see it (`visible(row)` false)."""
    row = db.session.get(model, ident)
    if row is None or (visible is not None and not visible(row)):
        raise NotFound(key)
    return row
