"""CSV export of a call-log search: masked numbers only, at most `MAX_ROWS` rows, newest first."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace

from registry.complaints.search import CallSearch, search
from registry.core.timeutil import as_utc

MAX_ROWS = 10_000
COLUMNS = ("id", "call_sid", "kind", "direction", "status", "from", "to", "proxy", "merchant_id",
           "created_at", "duration")
_PHONE_LIKE = re.compile(r"\+[0-9 *]+")


@dataclass(frozen=True)
class Export:
    """A CSV file's text and how many calls it holds."""
    text: str
    rows: int
    truncated: bool  # more calls matched than the file holds


def _cell(value: object) -> str:
    """A value a spreadsheet shows as text: a leading = + - @ would start a formula.

    Phone numbers (`+86 138****5678`) are left as they are; they hold no formula.
    """
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PHONE_LIKE.fullmatch(text):
        return "'" + text
    return text


def export_calls(criteria: CallSearch, max_rows: int = MAX_ROWS) -> Export:
    """The calls `criteria` matches (from the first page on), as CSV."""
    records, more = search(replace(criteria, cursor=None, per_page=max_rows))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([_cell(v) for v in (
            r.id, r.call_sid, r.kind, r.direction, r.status, r.from_masked, r.to_masked, r.proxy_number,
            r.merchant_id, as_utc(r.created_at).isoformat() if r.created_at else None, r.duration_seconds)])
    return Export(out.getvalue(), len(records), more is not None)
