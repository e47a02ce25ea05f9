"""Reading pages in tests as a person reads them: the words, and the error under a field."""

import html
import re


def text_of(page: str) -> str:
    """The page's words, tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def field_error(page: str, field: str) -> str:
    """The words of the error shown under `field` (empty if none)."""
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</(?:ul|p)>', page, re.S)
    return text_of(match.group(1)) if match else ""
