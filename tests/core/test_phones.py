"""The phone policy: what is accepted, what is refused and why, masking, encryption."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.core.phones import PhoneCipher, PhoneError, mask, parse_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164", "line_type"),
    [
        ("+86 138 0013 8000", "CN", "+8613800138000", "mobile"),
        ("13800138000", "CN", "+8613800138000", "mobile"),
        ("138-0013-8000", "CN", "+8613800138000", "mobile"),
        ("(010) 6552 9988", "CN", "+861065529988", "fixed_line"),
        ("＋８６　１３８００１３８０００", "CN", "+8613800138000", "mobile"),  # full-width, IME
        ("+٨٦١٣٨٠٠١٣٨٠٠٠", "CN", "+8613800138000", "mobile"),  # Arabic-Indic digits
        ("+44 7400 123456", "CN", "+447400123456", "mobile"),
        ("+1 415 555 2671", "CN", "+14155552671", "fixed_line_or_mobile"),
    ],
)
def test_accepts_and_normalises(raw, region, e164, line_type):
    phone = parse_phone(raw, region)
    assert (phone.e164, phone.line_type) == (e164, line_type)


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("+86138abc45678", "invalid_characters", "only digits"),
        ("1-800-FLOWERS", "invalid_characters", "only digits"),
        ("", "required", "Enter a phone number"),
        ("   \t ", "required", "Enter a phone number"),
        ("+86 138", "impossible_number", "too short"),
        ("+86 138 0013 8000 1234 5678", "impossible_number", "too long"),
        ("+1 900 555 0100", "refused_number_type", "premium-rate"),
        ("+33 8 99 12 34 56", "refused_number_type", "premium-rate"),
        ("+1 800 555 0100", "refused_number_type", "toll-free"),
        ("400 123 4567", "refused_number_type", "shared-cost"),
        ("+44 55 1234 5678", "refused_number_type", "universal access"),
        ("+39 331 0123 4501", "refused_number_type", "voicemail"),
        ("+44 70 1234 5678", "refused_number_type", "personal"),
        ("+44 7640 123456", "refused_number_type", "pager"),
        ("+999 1234 5678", "impossible_number", "country code"),
        ("+86 123 4567 8901", "invalid_phone", "does not exist"),
        ("1" * 10_000, "too_long", "too long"),
        ("+86 138 +0013 8000", "invalid_phone", "only stand at the start"),
    ],
)
def test_refuses_with_a_message_naming_the_field(raw, code, words):
    with pytest.raises(PhoneError) as caught:
        parse_phone(raw, "CN", field="phone")
    assert caught.value.code == code
    assert words in caught.value.message
    assert caught.value.field == "phone"


@pytest.mark.parametrize("raw", [None, 13800138000, ["+8613800138000"], {"n": 1}, True])
def test_refuses_non_text(raw):
    with pytest.raises(PhoneError) as caught:
        parse_phone(raw)
    assert caught.value.field == "number"


@given(st.text(max_size=80))
@settings(max_examples=400, deadline=None)
def test_arbitrary_text_never_crashes_and_never_yields_an_invalid_number(text):
    try:
        phone = parse_phone(text, "CN")
    except PhoneError as error:
        assert error.message and error.field == "number"
        return
    parsed = phonenumbers.parse(phone.e164, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phone.e164 == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    assert not any(c.isalpha() for c in text)


@given(st.from_regex(r"\+?[0-9 ()\-]{0,20}", fullmatch=True), st.sampled_from(["CN", "US", "GB"]))
@settings(max_examples=400, deadline=None)
def test_digit_strings_never_crash(text, region):
    try:
        phone = parse_phone(text, region)
    except PhoneError:
        return
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone.e164, None))


def test_mask_hides_the_middle_digits():
    assert mask("+8613812345678") == "+86 138****5678"
    assert "0013" not in mask("+8613800138000")
    assert mask("+447400123456").startswith("+44 740")


def test_cipher_round_trips_and_hashes_are_keyed():
    one, other = PhoneCipher("k" * 40), PhoneCipher("j" * 40)
    token = one.encrypt("+8613800138000")
    assert "13800138000" not in token
    assert one.decrypt(token) == "+8613800138000"
    assert one.encrypt("+8613800138000") != token  # random nonce: no equality leak
    assert one.lookup_hash("+8613800138000") == one.lookup_hash("+8613800138000")
    assert one.lookup_hash("+8613800138000") != other.lookup_hash("+8613800138000")
    with pytest.raises(ValueError):
        other.decrypt(token)
