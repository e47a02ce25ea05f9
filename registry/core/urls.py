"""Reading ids and URLs that arrive as text, without the exceptions Python raises on odd ones.

What an id may be: a whole number the database's integer columns can hold. Werkzeug's `int`
converter takes any number of digits, and an id past 2**63 made the look-up overflow (a 500 on
every route with an id). Registered as `int` for the whole app, `DatabaseId` lets such a URL
match no route: a 404, like any id that names nothing. `parse_id` reads one from a form or a
query string ("²".isdigit() is true, and int() refuses it). `split_url` splits a URL a client
gave, where `urlsplit` and `.port` raise on a bad IPv6 host or port; `valid_host` checks the
host name itself.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**31 - 1  # INTEGER on PostgreSQL; SQLite's is wider, so this bounds both


class DatabaseId(IntegerConverter):
    """`<int:…>` bounded to 0..LARGEST_ID unless the rule says otherwise."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own parameter name
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(text: object) -> int | None:
    """`text` as an id (ASCII digits, 1..LARGEST_ID), or None if it is not one."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= LARGEST_ID else None


def split_url(text: str) -> tuple[SplitResult, int | None] | None:
    """`text`'s parts and its port (None if it names none), or None if it cannot be a URL."""
    try:
        parts = urlsplit(text)
        return parts, parts.port
    except ValueError:  # "http://[::1", a port that is not a number from 0 to 65535
        return None


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


def valid_host(host: str) -> bool:
    """Whether `host` (a name, an IPv4 address or a bracketed IPv6 one) is well formed."""
    if host.startswith("[") and host.endswith("]"):
        try:
            return ipaddress.ip_address(host[1:-1]).version == 6
        except ValueError:
            return False
    if not host or len(host) > 253:
        return False
    return all(_LABEL.match(label) for label in host.split("."))
