"""The merchant import's input: a CSV file or a JSON array, read into rows.

What is wrong with the body as a whole (not UTF-8, a NUL byte, a column missing from the
header, more than `MAX_ROWS` rows, not a JSON array) refuses the whole import (422, nothing
changed). What is wrong with one row (a cell with control characters, a JSON item that is not an
object or has an unknown key, a row with too many cells) is that row's error, and the other rows
go on. Rows are numbered from 1, the header not counted.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from registry.core.errors import AppError, InvalidInput
from registry.core.text import check_json, text_error

COLUMNS = ("external_id", "name", "timezone", "business_hours", "owner_email", "number", "label")
MAX_ROWS = 10_000


@dataclass
class ImportRow:
    """One row: its number, its values by column (None when empty), and any error already found."""

    row: int
    values: dict[str, object]
    errors: list[AppError] = field(default_factory=list)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _text(data: bytes) -> str:
    """The body as text: UTF-8 (a leading byte-order mark is dropped), without NUL bytes."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InvalidInput("invalid.import_nul", field="body", line=_line_of(data, nul))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("invalid.import_encoding", field="body",
                           line=_line_of(data, error.start)) from None


def _too_many(count: int) -> None:
    if count > MAX_ROWS:
        raise InvalidInput("invalid.import_too_many_rows", field="body", limit=MAX_ROWS)


def _header(header: list[str]) -> list[str]:
    names = [name.strip().lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise InvalidInput("required.import_column", field=missing[0], column=missing[0],
                           columns=", ".join(COLUMNS))
    for position, name in enumerate(names):
        if name not in COLUMNS or name in names[:position]:
            raise InvalidInput("invalid.import_column", field="body", column=name[:40],
                               columns=", ".join(COLUMNS))
    return names


def rows_from_csv(data: bytes) -> list[ImportRow]:
    """The rows of a CSV file whose header names every column of `COLUMNS` (in any order)."""
    reader = csv.reader(io.StringIO(_text(data), newline=""), strict=True)
    try:
        names = _header(next(reader, []))
        rows: list[ImportRow] = []
        for number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            _too_many(len(rows) + 1)
            rows.append(_csv_row(number, names, record))
    except csv.Error:
        raise InvalidInput("invalid.import_csv", field="body", line=reader.line_num) from None
    return rows


def _csv_row(number: int, names: list[str], record: list[str]) -> ImportRow:
    row = ImportRow(number, {name: None for name in names})
    if len(record) != len(names):
        row.errors.append(InvalidInput("invalid.import_cells", field="row", found=len(record),
                                       expected=len(names)))
    for name, cell in zip(names, record, strict=False):
        problem = text_error(cell, name)
        if problem is not None:
            row.errors.append(problem)
        row.values[name] = cell.strip() or None
    return row


def rows_from_json(data: bytes) -> list[ImportRow]:
    """The rows of a JSON array of objects keyed by the columns (absent keys are empty)."""
    try:
        items = json.loads(_text(data))
    except (ValueError, RecursionError):
        raise InvalidInput("invalid.import_json", field="body") from None
    if not isinstance(items, list):
        raise InvalidInput("invalid.import_json", field="body")
    _too_many(len(items))
    return [_json_row(number, item) for number, item in enumerate(items, start=1)]


def _json_row(number: int, item: object) -> ImportRow:
    row = ImportRow(number, dict.fromkeys(COLUMNS))
    if not isinstance(item, dict):
        row.errors.append(InvalidInput("invalid_type.object", field="row", name=f"row {number}"))
        return row
    try:
        item = check_json(item)
    except AppError as error:
        row.errors.append(error)
        return row
    for key, value in item.items():
        if key not in COLUMNS:
            row.errors.append(InvalidInput("unknown_field", field=key[:40], name=key[:40]))
        elif isinstance(value, str):
            row.values[key] = value.strip() or None
        else:
            row.values[key] = value
    return row
