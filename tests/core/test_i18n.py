"""Language choice, Chinese pages, and translated refusals."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from registry.core import messages
from registry.core.errors import AppError
from registry.core.phones import parse_phone
from tests.factories import PASSWORD, make_merchant, make_number, make_user

TRANSLATIONS = Path(__file__).resolve().parents[2] / "registry" / "translations"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@pytest.fixture(autouse=True)
def compiled_catalogue():
    mo = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), "run `pybabel compile -d registry/translations` (make does)"


def test_accept_language_picks_chinese(client):
    page = client.get("/", headers=ZH)
    assert '<html lang="zh-Hans">' in page.text
    assert "登录" in page.text and "登记您的店铺" in page.text and "Sign in" not in page.text


@pytest.mark.parametrize("header", [None, "en-US,en;q=0.9", "fr-FR", "de,en;q=0.5"])
def test_english_otherwise(client, header):
    page = client.get("/", headers={"Accept-Language": header} if header else {})
    assert '<html lang="en">' in page.text and "Sign in" in page.text


def test_switch_remembers_the_choice_and_returns(client):
    store = make_merchant()
    switched = client.get(f"/lang/zh?next=/stores/{store.id}", headers={"Accept-Language": "en"})
    assert switched.status_code == 302 and switched.headers["Location"] == f"/stores/{store.id}"
    page = client.get(f"/stores/{store.id}", headers={"Accept-Language": "en"})
    assert "未认证" in page.text and "营业时间" in page.text and "星期一" in page.text
    assert '<span aria-current="true" lang="zh-Hans">简体中文</span>' in page.text
    back = client.get("/lang/en", headers={"Referer": f"http://localhost/stores/{store.id}"})
    assert back.headers["Location"] == f"/stores/{store.id}"
    assert "Not verified" in client.get(f"/stores/{store.id}", headers=ZH).text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/"])
def test_switch_never_leads_off_site(client, target):
    response = client.get("/lang/zh", query_string={"next": target},
                          headers={"Referer": "https://evil.example/page"})
    assert response.headers["Location"] == "/"


def test_unknown_language_is_not_found(client):
    assert client.get("/lang/xx").status_code == 404


def signed_in_zh(client):
    owner = make_user("merchant")
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    client.get("/lang/zh")
    return make_merchant(owner)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+86138abc45678", "电话号码只能包含数字、空格、短横线和开头的“+”，请删除 'abc'。"),
        ("+1 900 555 0100", "这是付费增值号码，请输入手机或固定电话号码。"),
        ("+1 800 555 0100", "这是免费电话号码，请输入手机或固定电话号码。"),
        ("", "请输入电话号码。"),
    ],
)
def test_refusals_are_shown_in_chinese(client, db, number, expected):
    signed_in_zh(client)
    response = client.post("/merchant/numbers/new", data={"number": number, "region": "CN"})
    assert response.status_code == 422
    assert expected in response.text.replace("&#39;", "'")
    assert "电话号码" in response.text and "添加号码" in response.text


def test_resend_limit_and_wrong_code_in_chinese(client, simulator):
    store = signed_in_zh(client)
    number = make_number(store, "+8613800138000")
    client.post(f"/merchant/numbers/{number.id}/code")
    again = client.post(f"/merchant/numbers/{number.id}/code")
    assert again.status_code == 429
    assert f"验证码刚刚已发送，{again.headers['Retry-After']} 秒后可重新获取。" in again.text
    wrong = "111111" if simulator.state.last_code("+8613800138000") != "111111" else "222222"
    checked = client.post(f"/merchant/numbers/{number.id}/check", data={"code": wrong})
    assert "验证码不正确。 还可尝试 4 次。" in checked.text


@pytest.mark.parametrize(
    "raw",
    ["", "+86 138", "+86 1380013800099999", "+999 1234", "+1 900 555 0100", "+86 400 810 8888",
     "1-800-FLOWERS", "1" * 100, "+86 138 ++0013", "+86 199 9999 99999"],
)
def test_phone_refusals_have_a_chinese_translation(app, raw):
    with pytest.raises(AppError) as refused:
        parse_phone(raw, "CN")
    with app.test_request_context(headers=ZH):
        translated = messages.render(refused.value)
        assert translated != messages.english(refused.value.key, refused.value.params)
    assert any("\u4e00" <= c <= "\u9fff" for c in translated), translated


def test_every_message_has_a_chinese_translation():
    pot = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    po = read_po((TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb"), locale="zh")
    for message in pot:
        if not message.id:
            continue
        translated = po.get(message.id)
        assert translated is not None and translated.string, message.id
        assert "fuzzy" not in translated.flags, message.id
        strings = translated.string if isinstance(translated.string, tuple) else (
            translated.string,)
        assert all(strings), message.id
    listed = {m.id for m in pot if m.id}
    catalogue = {*messages.CATALOGUE.values(), *messages.PAGE_MESSAGES.values()}
    assert {m._args[0] for m in catalogue} <= listed, "re-extract messages.pot"
