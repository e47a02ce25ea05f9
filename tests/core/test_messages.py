"""Errors as codes: every refusal is worded once, in the catalogue, and translated from there."""

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from registry.callbacks.operations import unavailable_code
from registry.core import messages
from registry.core.errors import AppError, InvalidInput
from registry.core.i18n import DAY_NAMES
from registry.core.phones import PARSE_ERRORS, POSSIBLE_ERRORS, REFUSED_TYPES
from registry.verification.operations import LIMIT_CODES
from tests.factories import PASSWORD, bearer, make_merchant, make_number, make_token, make_user

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "registry"
ZH_PO = REGISTRY / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _modules():
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(REGISTRY.rglob("*.py"))]


def _error_classes(modules) -> set[str]:
    """`AppError` and every class that derives from it, by name, across registry/."""
    family, grew = {"AppError"}, True
    while grew:
        grew = False
        for _, tree in modules:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in family and any(
                        getattr(base, "id", getattr(base, "attr", None)) in family for base in node.bases):
                    family.add(node.name)
                    grew = True
    return family


def raised_codes() -> dict[str, str]:
    """Every code written literally as the first argument of an error class, with where it is."""
    modules = _modules()
    family = _error_classes(modules)
    found = {}
    for path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and \
                    getattr(node.func, "id", getattr(node.func, "attr", None)) in family:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found[first.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_code_raised_in_registry_has_catalogue_words():
    codes = raised_codes()
    assert len(codes) > 80, "the scan found too few raises to be looking in the right place"
    missing = {code: where for code, where in codes.items() if code not in messages.CATALOGUE}
    assert not missing, missing


def test_codes_chosen_from_tables_have_catalogue_words():
    tables = [*LIMIT_CODES.values(), *PARSE_ERRORS.values(), *POSSIBLE_ERRORS.values()]
    assert set(tables) <= set(messages.CATALOGUE)
    assert set(REFUSED_TYPES.values()) == set(messages.PHONE_KINDS)
    assert set(messages.PAGE_MESSAGES) <= set(messages.CATALOGUE)


def test_an_unknown_code_fails_where_it_is_raised():
    with pytest.raises(KeyError, match="no_such_code"):
        InvalidInput("no_such_code")


def test_the_public_code_is_the_part_before_the_dot():
    error = InvalidInput("invalid.slot_order", field="when")
    assert (error.code, error.key, error.status) == ("invalid", "invalid.slot_order", 422)
    assert InvalidInput("in_the_past").code == "in_the_past"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", text))


def test_every_catalogue_entry_has_a_chinese_translation_with_the_same_placeholders():
    po = read_po(ZH_PO.open("rb"), locale="zh")
    words = [*messages.CATALOGUE.values(), *messages.PAGE_MESSAGES.values(),
             *messages.PHONE_KINDS.values(), *DAY_NAMES.values()]
    for lazy in words:
        msgid = lazy._args[0]
        entry = po.get(msgid)
        assert entry is not None and entry.string, msgid
        assert "fuzzy" not in entry.flags, msgid
        assert _placeholders(entry.string) == _placeholders(msgid), msgid


# Regular expressions built from message templates are how refusals used to be
# translated back from English; none may come back. The Twilio simulator is not
# the product (it filters numbers by Twilio's wildcard patterns) and is left out.
SIMULATOR = REGISTRY / "simulator"
REGEX_CALLS = {"compile", "fullmatch", "match", "search", "split", "sub", "subn", "findall", "finditer"}


def test_no_module_translates_messages_with_regular_expressions():
    offences = []
    for path, tree in _modules():
        if SIMULATOR in path.parents:
            continue
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and getattr(node.func.value, "id", None) == "re"):
                continue
            if node.func.attr == "escape":
                offences.append(f"{where}:{node.lineno} re.escape builds a pattern from text")
            elif node.func.attr in REGEX_CALLS and node.args:
                pattern = node.args[0]
                if not isinstance(pattern, ast.Constant):
                    offences.append(f"{where}:{node.lineno} a pattern built at run time")
                elif "%\\(" in str(pattern.value) or "%(" in str(pattern.value):
                    offences.append(f"{where}:{node.lineno} a pattern matching %(placeholders)s")
    assert not offences, offences


# -- the same refusal in JSON (English, Chinese) and on a page in Chinese ---------------------

@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def store(owner):
    return make_merchant(owner)


def test_resend_countdown_in_json_and_on_the_chinese_page(client, store, owner):
    number = make_number(store, "+8613800138000")
    headers = bearer(make_token(owner))
    url = f"/api/v1/numbers/{number.id}/verification"
    assert client.post(url, headers=headers).status_code == 202
    english = client.post(url, headers={**headers, **EN})
    wait = english.json["error"]["retry_after"]
    assert english.status_code == 429 and english.headers["Retry-After"] == str(wait)
    assert english.json["error"] == {
        "code": "too_many_codes", "reason": "too_many_codes.resend", "field": "number", "retry_after": wait,
        "message": f"A code was sent a moment ago; you can ask for another in {wait} seconds."}
    chinese = client.post(url, headers={**headers, **ZH}).json["error"]
    assert chinese["code"] == "too_many_codes"
    assert chinese["message"] == f"验证码刚刚已发送，{chinese['retry_after']} 秒后可重新获取。"

    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    page = client.post(f"/merchant/numbers/{number.id}/code", headers=ZH)
    assert page.status_code == 429
    assert f"验证码刚刚已发送，{page.headers['Retry-After']} 秒后可重新获取。" in page.text


def test_a_premium_number_in_json_and_on_the_chinese_page(client, store, owner):
    headers = bearer(make_token(owner))
    url = f"/api/v1/merchants/{store.id}/numbers"
    english = client.post(url, json={"number": "+1 900 555 0100"}, headers={**headers, **EN}).json["error"]
    assert english == {"code": "refused_number_type", "reason": "refused_number_type", "field": "number",
                       "kind": "premium_rate",
                       "message": "That is a premium-rate number; enter a mobile or landline number."}
    chinese = client.post(url, json={"number": "+1 900 555 0100"}, headers={**headers, **ZH})
    assert chinese.status_code == 422
    assert chinese.json["error"]["message"] == "这是付费增值号码，请输入手机或固定电话号码。"

    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    page = client.post("/merchant/numbers/new", data={"number": "+1 900 555 0100", "region": "CN"},
                       headers=ZH)
    assert page.status_code == 422 and "这是付费增值号码，请输入手机或固定电话号码。" in page.text


def test_a_day_name_in_json_and_on_the_chinese_page(client, store, owner):
    hours = {"tue": [["18:00", "09:00"]]}
    english = client.post("/api/v1/merchants", json={"name": "Tea", "business_hours": hours},
                          headers={**bearer(make_token(make_user("merchant"))), **EN})
    assert english.status_code == 422
    assert english.json["error"]["message"] == "Tuesday: 18:00 to 09:00 ends before it starts."
    assert (english.json["error"]["code"], english.json["error"]["day"]) == ("invalid", "tue")
    chinese = client.post("/api/v1/merchants", json={"name": "Tea", "business_hours": hours},
                          headers={**bearer(make_token(make_user("merchant"))), **ZH})
    assert chinese.json["error"]["message"] == "星期二：18:00 至 09:00 的结束时间早于开始时间。"

    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    form = {"name": "Tea", "timezone": "Asia/Shanghai", "tue_1_start": "18:00", "tue_1_end": "09:00"}
    page = client.post("/merchant/store", data=form, headers=ZH)
    assert page.status_code == 422 and "星期二：18:00 至 09:00 的结束时间早于开始时间。" in page.text


def test_a_page_words_a_refusal_for_its_form(app):
    """`in_the_past` tells an API client the time passed, and a shopper on the form to choose again."""
    error = InvalidInput("in_the_past", field="when")
    with app.test_request_context(headers=EN):
        assert error.message == "That time has already passed."
        assert messages.render(error) == "That time has already passed; choose another."


def test_an_unavailable_store_says_why_in_both_languages(client, store):
    assert unavailable_code(store) == "callback_unavailable.no_number"
    assert AppError("callback_unavailable.no_number").code == "callback_unavailable"
    page = f"/stores/{store.id}"
    assert "暂不提供回电服务：该店铺尚未认证电话号码。" in client.get(page, headers=ZH).text
    assert "This store has no verified phone number yet." in client.get(page, headers=EN).text
