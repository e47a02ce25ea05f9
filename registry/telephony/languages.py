"""Which language a party on a call hears: the prompts speak to each in theirs.

The rule is small on purpose. A number's country decides: the Chinese-speaking
regions (mainland China, Taiwan, Hong Kong, Macao, Singapore) hear Simplified
Chinese, every other country English. A store's language follows its time
zone's country (the store's own setting), and the number dialled when the zone
names no country (`UTC`). Nothing here parses a number: the country calling
code decides, so the inbound fast path pays a few string comparisons.
"""

from __future__ import annotations

from babel.core import get_global
from phonenumbers import country_code_for_region

# Regions whose callers hear Chinese; every other region hears English.
CHINESE_REGIONS = frozenset({"CN", "TW", "HK", "MO", "SG"})
DEFAULT = "en"
# Their calling codes (86, 886, 852, 853, 65): calling codes are prefix-free, so a number
# is in one of them exactly when one of its first three digits' prefixes is in the set.
_CHINESE_CODES = frozenset(str(country_code_for_region(region)) for region in CHINESE_REGIONS)
_ZONE_REGIONS = get_global("zone_territories")
# The numbers Twilio reports in place of a withheld caller ID (anonymous, restricted,
# unknown, blocked): nobody's number, so no country's either.
WITHHELD = frozenset({"+266696687", "+86282452253", "+7378742833", "+2562533"})


def region_language(region: str | None) -> str:
    """`zh` for the Chinese-speaking regions, else `en`."""
    return "zh" if region in CHINESE_REGIONS else DEFAULT


def number_language(e164: str | None, default: str = DEFAULT) -> str:
    """The language of the country a number (E.164) is in; `default` for no number or a
    withheld caller ID (a word, a client or SIP address)."""
    if not e164 or not e164.startswith("+") or e164 in WITHHELD:
        return default
    digits = e164[1:4]
    if any(digits[:n] in _CHINESE_CODES for n in (1, 2, 3)):
        return "zh"
    return DEFAULT


def store_language(timezone: str | None, number: str | None = None) -> str:
    """A store's language: its time zone's country's, else that of the number it is
    reached on."""
    region = _ZONE_REGIONS.get(timezone or "")
    if region is not None and region.isalpha() and region != "ZZ":  # not "001" (world) or unknown
        return region_language(region)
    return number_language(number)
