"""Keep real phone numbers out of the access log.

A staff search by phone number (`?phone=…` on the call-record search and export) puts the
number in the request line, which the server's access log writes as it is. This filter,
on Werkzeug's request logger, replaces such values before the line is written.
"""

from __future__ import annotations

import logging
import re

# Query parameters that carry a real phone number.
_PHONE_PARAMETER = re.compile(r"([?&](?:phone|number|To|From)=)[^&\s\"]*")
HIDDEN = r"\1[hidden]"


def scrub(text: str) -> str:
    """`text` with the values of phone-number query parameters hidden."""
    return _PHONE_PARAMETER.sub(HIDDEN, text)


class HidePhoneParameters(logging.Filter):
    """Rewrites a log record's message arguments (the request line) before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        return True


def hide_phone_numbers_in_access_logs() -> None:
    """Install the filter on Werkzeug's request logger (once)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, HidePhoneParameters) for f in logger.filters):
        logger.addFilter(HidePhoneParameters())
