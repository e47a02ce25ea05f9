"""Keep real phone numbers out of the access log.

A staff search by phone number (`?phone=…` on the call-record search and export) puts the
number in the request line, which the server's access log writes as it is. This filter,
on the request loggers of Werkzeug (development) and gunicorn (`gunicorn.access`), replaces
such values before the line is written.
"""

from __future__ import annotations

import logging
import re

# Query parameters that carry a real phone number.
_PHONE_PARAMETER = re.compile(r"((?:^|[?&])(?:phone|number|to|from)=)[^&\s\"]*", re.IGNORECASE)
HIDDEN = r"\1[hidden]"


def scrub(text: str) -> str:
    """`text` with the values of phone-number query parameters hidden."""
    return _PHONE_PARAMETER.sub(HIDDEN, text)


class HidePhoneParameters(logging.Filter):
    """Rewrites a log record's message arguments (the request line) before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Werkzeug passes the request line as an argument; gunicorn formats the line itself.
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access atoms (`r`, `U`, `q`…)
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def hide_phone_numbers_in_access_logs() -> None:
    """Install the filter on each server's request logger (once)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, HidePhoneParameters) for f in logger.filters):
            logger.addFilter(HidePhoneParameters())
