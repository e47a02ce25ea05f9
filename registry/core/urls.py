"""What an id in a URL may be: a whole number the database's integer columns can hold.

Werkzeug's `int` converter takes any number of digits, and an id past 2**63 made the
look-up overflow (a 500 on every route with an id). Registered as `int` for the whole app,
this converter lets such a URL match no route: a 404, like any id that names nothing.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**31 - 1  # INTEGER on PostgreSQL; SQLite's is wider, so this bounds both


class DatabaseId(IntegerConverter):
    """`<int:…>` bounded to 0..LARGEST_ID unless the rule says otherwise."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own parameter name
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)
