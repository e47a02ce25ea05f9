"""Every string the sources mark for translation has a Chinese translation.

The committed `messages.pot` can lag behind the code: a string added to a template or a
module but never extracted is shown in English to a Chinese reader, and a check against
the old `.pot` would not notice. This test extracts the catalogue from the current
sources, exactly as `babel.cfg` and the Makefile's `pybabel extract` do, and fails
listing every msgid without a non-fuzzy Chinese translation.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "registry" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
# The keywords the project extracts with (`pybabel extract -k lazy_gettext -k _l`).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}


def extracted_msgids(root: Path = ROOT) -> set[str | tuple[str, ...]]:
    """The msgids `pybabel extract -F babel.cfg` finds in the sources under `root` today."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS):
        found.add(message)
    return found


def untranslated(msgids, po_path: Path = ZH_PO) -> list[str]:
    """The msgids (singular forms) without a complete, non-fuzzy translation in `po_path`."""
    catalogue = read_po(po_path.open("rb"), locale="zh")
    missing = []
    for msgid in msgids:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if not key:
            continue
        entry = catalogue.get(key)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(key)
    return sorted(missing)


def test_every_string_in_the_sources_has_a_chinese_translation():
    msgids = extracted_msgids()
    assert len(msgids) > 300  # the extraction really read the templates and modules
    missing = untranslated(msgids)
    assert not missing, "untranslated in zh (add them to messages.po):\n" + "\n".join(missing)


def test_a_new_template_string_without_a_translation_is_caught(tmp_path):
    """The check itself: a string only a new template holds is reported."""
    templates = tmp_path / "registry" / "templates"
    templates.mkdir(parents=True)
    (templates / "new.html").write_text('<p>{{ _("A sentence nobody translated yet") }}</p>'
                                        '<p>{{ _("Staff console") }}</p>', encoding="utf-8")
    found = extracted_msgids(tmp_path)
    assert found == {"A sentence nobody translated yet", "Staff console"}
    assert untranslated(found) == ["A sentence nobody translated yet"]
