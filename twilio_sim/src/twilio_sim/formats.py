"""Small formatting rules shared by the simulated products.

Twilio's two API generations write dates differently (2010-04-01: RFC 2822,
Verify v2: ISO 8601 in UTC), and the SDK parses each with its own
deserializer, so each product must use its own form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

# E.164: a plus, a non-zero country code digit, at most 15 digits in all.
# Seven digits at least: shorter "numbers" are short codes, not phones.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def is_e164(value: str | None) -> bool:
    """Whether `value` is a phone number in E.164 form."""
    return bool(value) and bool(E164.match(value))


def iso8601(timestamp: float) -> str:
    """`2015-07-30T20:00:00Z`, as Verify v2 writes dates."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(timestamp: float) -> str:
    """`Thu, 30 Jul 2015 20:00:00 +0000`, as the 2010-04-01 API writes dates."""
    return format_datetime(datetime.fromtimestamp(int(timestamp), UTC))


def list_page(records: list[dict], key: str, path: str, args, filters: dict) -> dict:
    """A 2010-04-01 list response: one page of `records` under `key`, with paging URIs.

    `path` is the product-relative list path (`/2010-04-01/Accounts/.../X.json`),
    `args` the request's query arguments, `filters` the filters applied, kept
    in every paging URI as Twilio keeps them.
    """
    page_size = min(int(args.get("PageSize") or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    page = int(args.get("Page") or 0)
    start = page * page_size
    chunk = records[start : start + page_size]
    kept = {name: value for name, value in filters.items() if value is not None}

    def uri(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'PageSize': page_size, 'Page': number})}"

    return {
        key: chunk,
        "page": page,
        "page_size": page_size,
        "start": start,
        "end": start + max(len(chunk) - 1, 0),
        "uri": uri(page),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + page_size < len(records) else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
    }
