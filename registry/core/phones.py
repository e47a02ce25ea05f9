"""Phone numbers: the parsing policy, display masking, and encryption at rest.

Every phone number that enters the product goes through `parse_phone`, which
either returns a `PhoneNumber` (E.164, region, line type) or raises
`PhoneError` with a message naming the field. Real numbers are stored
encrypted (`PhoneCipher.encrypt`) with a keyed hash beside them
(`PhoneCipher.lookup_hash`) for exact-match search and uniqueness, and shown
masked (`mask`) to everyone but their owner.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from registry.core.ciphers import RotatingFernet, data_keys, derived_key
from registry.core.errors import InvalidInput

# Longest text we even try to parse; E.164 is at most 15 digits, so anything
# far beyond that is not a phone number however it is punctuated.
MAX_INPUT_LENGTH = 64

# Types a contact number may have. Everything else (premium rate, shared
# cost, toll free, UAN, voicemail, personal, pager, unknown) is refused.
LINE_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.VOIP: "voip",
}
# Refused types by the `kind` key the refusal carries (worded in `core.messages`).
REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
}
# Characters people type around digits: spaces, dashes, dots, brackets,
# slashes and a leading plus. Anything else (letters above all) is refused
# before phonenumbers sees it, because phonenumbers maps letters to keypad
# digits ("1-800-FLOWERS") and would silently accept them.
ALLOWED_PUNCTUATION = set(" \t-–—.()/+\u00a0\u3000（）－＋．")


_Parse = phonenumbers.NumberParseException
PARSE_ERRORS = {
    _Parse.INVALID_COUNTRY_CODE: "impossible_number.country_code",
    _Parse.TOO_SHORT_NSN: "impossible_number.too_short",
    _Parse.TOO_SHORT_AFTER_IDD: "impossible_number.too_short",
    _Parse.TOO_LONG: "impossible_number.too_long",
    None: "impossible_number",
}
POSSIBLE_ERRORS = {
    phonenumbers.ValidationResult.TOO_SHORT: "impossible_number.too_short",
    phonenumbers.ValidationResult.TOO_LONG: "impossible_number.too_long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "impossible_number.unknown_country",
}


class PhoneError(InvalidInput):
    """A phone number was refused (422); `message` is fit to show the user."""

    def __init__(self, key: str, field: str = "number", **params):
        super().__init__(key, field=field, **params)


@dataclass(frozen=True)
class PhoneNumber:
    """A parsed, accepted number."""

    e164: str
    region: str
    line_type: str

    @property
    def international(self) -> str:
        """The number in international format, e.g. `+86 138 0013 8000`."""
        return format_international(self.e164)

    @property
    def masked(self) -> str:
        return mask(self.e164)

    @property
    def can_receive_sms(self) -> bool:
        return self.line_type in {"mobile", "fixed_line_or_mobile"}


def normalise_digits(text: str) -> str:
    """Map digits of any script (full-width, Arabic-Indic...) to ASCII."""
    out = []
    for char in text:
        if char.isdigit():
            try:
                out.append(str(unicodedata.digit(char)))
                continue
            except ValueError:
                pass
        out.append(char)
    return "".join(out)


def parse_phone(raw: object, region: str = "CN", field: str = "number") -> PhoneNumber:
    """Parse and validate user input as a contact phone number.

    `region` is used for numbers typed without a leading `+`.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise PhoneError("required.phone", field)
    if not isinstance(raw, str):
        raise PhoneError("invalid_type.phone", field)
    if len(raw) > MAX_INPUT_LENGTH:
        raise PhoneError("too_long.phone", field)
    text = normalise_digits(raw).strip()
    bad = sorted({c for c in text if not c.isdigit() and c not in ALLOWED_PUNCTUATION})
    if bad:
        shown = "".join(bad[:5])
        raise PhoneError("invalid_characters", field, chars=repr(shown))
    if any(not c.isascii() for c in text if c.isdigit()):
        raise PhoneError("invalid_characters.not_ascii", field)
    if "+" in text.lstrip("+＋ ") or "＋" in text.lstrip("+＋ "):
        raise PhoneError("invalid_phone.plus_inside", field)
    region = (region or "CN").upper()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(PARSE_ERRORS.get(exc.error_type, PARSE_ERRORS[None]), field) from None
    if not phonenumbers.is_possible_number(parsed):
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        raise PhoneError(POSSIBLE_ERRORS.get(reason, "impossible_number.wrong_length"), field)
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("invalid_phone.not_in_plan", field)
    number_type = phonenumbers.number_type(parsed)
    if number_type in REFUSED_TYPES:
        raise PhoneError("refused_number_type", field, kind=REFUSED_TYPES[number_type])
    if number_type not in LINE_TYPES:
        raise PhoneError("refused_number_type.unknown", field)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    region_code = phonenumbers.region_code_for_number(parsed) or region
    return PhoneNumber(e164=e164, region=region_code, line_type=LINE_TYPES[number_type])


def format_international(e164: str) -> str:
    """`+8613800138000` -> `+86 138 0013 8000`."""
    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def region_of(e164: str) -> str | None:
    """The country of a stored E.164 number (e.g. `CN`), if phonenumbers knows it."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=16384)
def mask(e164: str) -> str:
    """Show a number without its middle digits: `+86 138****5678`.

    The country code, the first three national digits and the last four
    stay; everything between is starred, so a number can be recognised by
    its owner but not dialled by anyone else. Cached: every routed call
    masks the same few numbers again, and parsing is most of the cost.
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = phonenumbers.national_significant_number(parsed)
    keep_head = 3 if len(national) > 8 else 2
    keep_tail = 4 if len(national) > 6 else 2
    hidden = max(len(national) - keep_head - keep_tail, 1)
    return f"+{parsed.country_code} {national[:keep_head]}{'*' * hidden}{national[-keep_tail:]}"


class PhoneCipher(RotatingFernet):
    """Encrypts numbers and computes their keyed lookup hash.

    Both keys are derived from each key `DATA_KEY` lists with HKDF and distinct labels, so the
    encryption key never doubles as the HMAC key. With several keys (newest first, during a
    rotation) numbers are encrypted and hashed with the newest, decrypted with whichever key
    opens them (MultiFernet), and searched by the hash under every key (`lookup_hashes`).
    """

    def __init__(self, data_key: str):
        super().__init__(data_key, b"phone-encryption", "phone number")
        self._mac_keys = [derived_key(key.encode(), b"phone-lookup-hmac") for key in data_keys(data_key)]
        self._mac_key = self._mac_keys[0]

    @property
    def rotating(self) -> bool:
        """Whether `DATA_KEY` lists older keys besides the newest."""
        return len(self._mac_keys) > 1

    def lookup_hash(self, e164: str) -> str:
        """Keyed hash of an E.164 number under the newest key, for equality search and
        uniqueness (what is stored)."""
        return hmac.new(self._mac_key, e164.encode(), hashlib.sha256).hexdigest()

    def lookup_hashes(self, e164: str) -> list[str]:
        """The number's hash under every key, newest first: what a search looks for, so rows
        stored before a rotation reached them are found too."""
        return [hmac.new(key, e164.encode(), hashlib.sha256).hexdigest() for key in self._mac_keys]

    def matches(self, column, e164: str):
        """A condition: `column` holds the number's hash under any key (`=` with one key)."""
        if not self.rotating:
            return column == self.lookup_hash(e164)
        return column.in_(self.lookup_hashes(e164))


def get_cipher() -> PhoneCipher:
    """The app's `PhoneCipher` (set up by `create_app`)."""
    from flask import current_app

    return current_app.extensions["phone_cipher"]


class EncryptedPhone(TypeDecorator):
    """A column holding an E.164 number, encrypted with the app's `DATA_KEY`.

    Python code reads and writes the clear E.164 string; the database only
    ever sees the Fernet token.
    """

    impl = Text
    cache_ok = True

    def key_rotation(self) -> PhoneCipher:
        """The cipher `keys rotate` re-encrypts this column's values with (`core.keys`)."""
        return get_cipher()

    def process_bind_param(self, value, dialect):
        return None if value is None else get_cipher().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else get_cipher().decrypt(value)
