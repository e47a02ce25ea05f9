"""The text rule (`core.text`): which characters a single-line or multi-line field refuses."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.core.errors import InvalidInput
from registry.core.text import check_json, check_text, refused_characters

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]


@pytest.mark.parametrize("char", CONTROLS + ["\u2028", "\u2029", "\ud800", "\udfff"])
def test_a_single_line_field_refuses(char):
    with pytest.raises(InvalidInput) as refused:
        check_text(f"a{char}b", "name")
    assert refused.value.field == "name" and refused.value.status == 422


@pytest.mark.parametrize("char", sorted(set(CONTROLS) - {"\t", "\n", "\r"}) + ["\ud800"])
def test_a_multi_line_field_refuses(char):
    with pytest.raises(InvalidInput):
        check_text(f"a{char}b", "note", multiline=True)


def test_a_multi_line_field_keeps_tabs_and_lines_with_crlf_as_lf():
    assert check_text("one\r\n\ttwo\rthree\u2028", "note", multiline=True) == "one\n\ttwo\nthree\u2028"


def test_ordinary_text_passes_unchanged():
    for value in ("茶馆 Tea House", "Café ☕ 𝔘", "A-77/2", ""):
        assert check_text(value, "name") == value


def test_json_fields_are_named_by_path_and_notes_are_multi_line():
    body = check_json({"note": "a\r\nb", "when": {"start": "x"}, "tags": ["ok"]})
    assert body["note"] == "a\nb"
    with pytest.raises(InvalidInput) as refused:
        check_json({"hours": {"mon": [["09:00", "1\x00"]]}})
    assert refused.value.field == "hours.mon.0.1"
    with pytest.raises(InvalidInput) as refused:
        check_json({"a\x00": 1})
    assert refused.value.field == "a\ufffd"


def test_a_deeply_nested_body_does_not_exhaust_the_stack():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    check_json({"x": deep})


@given(st.text())
def test_what_passes_holds_no_refused_character(value):
    try:
        checked = check_text(value, "note", multiline=True)
    except InvalidInput:
        assert refused_characters(value.replace("\r", "\n"), multiline=True)
    else:
        assert not refused_characters(checked, multiline=True) and "\r" not in checked
