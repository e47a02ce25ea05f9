"""Each party hears the prompts in their own language, not the proxy number's country's.

A shopper's language follows their number's country, a merchant's their store's
time zone (else the number called); the words come from the translation catalogue.
"""

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale

from registry.callbacks.models import CallbackAttempt
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.core.extensions import db as _db
from registry.core.timeutil import utcnow
from registry.telephony import languages, twiml
from tests.factories import make_binding, make_callable_merchant, make_proxy, make_shopper, signed_post

PROXY, MERCHANT = "+8613900000001", "+8613800138000"
UK_SHOPPER, CN_SHOPPER, UK_MERCHANT = "+447400123456", "+8613700137000", "+447911123456"
CALL = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "5" * 32, "CallStatus": "ringing",
        "Direction": "inbound"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "RECORD_CALLS": True}


def doc(response) -> ET.Element:
    assert response.status_code == 200, response.data
    return ET.fromstring(response.data)


def said(element: ET.Element) -> list[tuple[str, str]]:
    """(language, words) of every <Say> in the document, in order."""
    return [(say.get("language"), say.text) for say in element.iter("Say")]


def whisper_lang(element: ET.Element) -> str:
    [lang] = parse_qs(urlsplit(element.find("Dial/Number").get("url")).query)["lang"]
    return lang


def call(client, frm: str, to: str = PROXY):
    return doc(signed_post(client, "/webhooks/twilio/voice/incoming", {**CALL, "From": frm, "To": to}))


def store(number: str, timezone: str):
    merchant = make_callable_merchant(number)
    merchant.timezone = timezone
    _db.session.commit()
    return merchant


def test_a_uk_shopper_calling_a_chinese_proxy_hears_english_and_the_merchant_chinese(client, db):
    make_proxy(PROXY)
    make_binding(MERCHANT, UK_SHOPPER, merchant_id=store(MERCHANT, "Asia/Shanghai").id)
    answer = call(client, UK_SHOPPER)
    assert said(answer) == [("en-US", "This call is recorded for quality and dispute resolution.")]
    assert whisper_lang(answer) == "zh"  # the merchant hears the notice in Chinese
    notice = doc(signed_post(client, "/webhooks/twilio/voice/notice?lang=zh", {"CallSid": "CA" + "2" * 32}))
    assert said(notice) == [("zh-CN", "本次通话将被录音，用于服务质量和纠纷处理。")]


def test_a_chinese_merchant_calling_a_uk_shopper_back_hears_chinese_the_shopper_english(client, db):
    make_proxy(PROXY)
    make_binding(MERCHANT, UK_SHOPPER, merchant_id=store(MERCHANT, "Asia/Shanghai").id)
    answer = call(client, MERCHANT)
    assert [lang for lang, _ in said(answer)] == ["zh-CN"] and whisper_lang(answer) == "en"


def test_a_stores_time_zone_decides_over_the_proxys_country(client, db):
    """A London store reached on a +86 proxy: its merchant hears English, the Chinese shopper Chinese."""
    make_proxy(PROXY)
    make_binding(UK_MERCHANT, CN_SHOPPER, merchant_id=store(UK_MERCHANT, "Europe/London").id)
    from_shopper, from_merchant = call(client, CN_SHOPPER), call(client, UK_MERCHANT)
    assert [lang for lang, _ in said(from_shopper)] == ["zh-CN"] and whisper_lang(from_shopper) == "en"
    assert [lang for lang, _ in said(from_merchant)] == ["en-US"] and whisper_lang(from_merchant) == "zh"


@pytest.mark.parametrize(("caller", "expected"), [(UK_SHOPPER, "en-US"), (CN_SHOPPER, "zh-CN"),
                                                  ("anonymous", "zh-CN")])  # no number: the proxy's
def test_a_refused_caller_hears_the_refusal_in_their_language(client, db, caller, expected):
    make_proxy(PROXY)
    [(lang, words)] = said(call(client, caller))
    assert lang == expected and ("cannot connect" in words) == (expected == "en-US")


def test_the_extension_prompt_is_in_the_callers_language(client, db):
    make_proxy(PROXY, shared=True)
    assert {lang for lang, _ in said(call(client, UK_SHOPPER))} == {"en-US"}
    assert {lang for lang, _ in said(call(client, CN_SHOPPER))} == {"zh-CN"}


@pytest.fixture
def attempt(app, db):
    """A callback from a UK shopper to a Chinese store, on a Chinese proxy number."""
    make_proxy(PROXY)
    merchant = store(MERCHANT, "Asia/Shanghai")
    request = request_callback(make_shopper(UK_SHOPPER), merchant.id, "asap", "A7", None,
                               CallbackPolicy.from_config(app.config))
    binding = make_binding(MERCHANT, UK_SHOPPER, merchant_id=merchant.id)
    request.status, request.binding_id = "calling", binding.id
    attempt = CallbackAttempt(request=request, seq=1, state="placed", proxy_number=PROXY, placed_at=utcnow())
    db.session.add(attempt)
    db.session.commit()
    return attempt


def test_the_callback_speaks_to_the_merchant_and_the_shopper_each_in_theirs(client, attempt):
    leg = {"CallSid": "CA" + "4" * 32, "From": PROXY, "To": MERCHANT, "Direction": "outbound-api"}
    whisper = doc(signed_post(client, f"/webhooks/twilio/callback/answer?attempt={attempt.id}", leg))
    [(lang, words), (_, goodbye)] = said(whisper)
    assert lang == "zh-CN" and words.startswith("您好，Tea House。") and "A 7" in words
    assert CHINESE.search(goodbye)
    bridge = doc(signed_post(client, f"/webhooks/twilio/callback/choice?attempt={attempt.id}",
                             {**leg, "Digits": "1"}))
    assert said(bridge) == [("zh-CN", "本次通话将被录音，用于服务质量和纠纷处理。")]  # to the merchant
    assert whisper_lang(bridge) == "en"  # to the UK shopper


def test_a_london_store_hears_the_whisper_in_english(client, attempt):
    from registry.merchants.models import Merchant

    _db.session.get(Merchant, attempt.request.merchant_id).timezone = "Europe/London"
    _db.session.commit()
    leg = {"CallSid": "CA" + "4" * 32, "From": PROXY, "To": MERCHANT, "Direction": "outbound-api"}
    answer = signed_post(client, f"/webhooks/twilio/callback/answer?attempt={attempt.id}", leg)
    [(lang, words), _] = said(doc(answer))
    assert lang == "en-US" and words.startswith("Hello Tea House. A shopper asked you to call them back")


def prompts(lang: str) -> list[tuple[str, str]]:
    documents = [twiml.refuse(lang), twiml.notice(lang), twiml.goodbye(lang), twiml.ask_extension("/x", lang),
                 twiml.callback_whisper(store="S", order_ref="A7", action="/x", lang=lang),
                 twiml.connect(caller_id=PROXY, to=MERCHANT, status_callback="/s", action="/a", record=True,
                               whisper_url="/w", lang=lang)]
    return [pair for document in documents for pair in said(ET.fromstring(document))]


def test_the_catalogue_has_every_prompt_in_both_languages(app):
    with app.test_request_context(), force_locale("en"):  # the page's locale does not leak in
        english, chinese = prompts("en"), prompts("zh")
    assert len(english) == len(chinese) == 8
    assert all(lang == "en-US" and not CHINESE.search(words) for lang, words in english)
    assert all(lang == "zh-CN" and CHINESE.search(words) and not LATIN_WORD.search(words.replace("S", ""))
               for lang, words in chinese)


def test_the_prompts_are_msgids_of_the_catalogue_translators_work_on(app):
    """The words are the catalogue's (registry/translations), not a table of their own."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(app.root_path) / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalog = read_po(file)
    with app.test_request_context():
        english, chinese = prompts("en"), prompts("zh")
    fixed = {0, 1, 2, 3, 4, 6, 7}  # the prompts without a store's name or order in them
    for n in fixed:
        message = catalog.get(english[n][1])
        assert message is not None and message.string == chinese[n][1] and not message.fuzzy
    assert catalog.get("Hello %(store)s. A shopper asked you to call them back%(order)s. "
                       "Press 1 to connect now.").string.startswith("您好，%(store)s。")


@pytest.mark.parametrize(("number", "expected"), [
    ("+8613800138000", "zh"), ("+85291234567", "zh"), ("+85366123456", "zh"), ("+886912345678", "zh"),
    ("+6581234567", "zh"), ("+447400123456", "en"), ("+12025550123", "en"), ("+8190000000", "en"),
    ("+852", "zh"), ("anonymous", "en"), (None, "en"), ("+855", "en"),
    ("+86282452253", "en"), ("+266696687", "en")])  # Twilio's stand-ins for a withheld caller ID
def test_a_numbers_language_follows_its_calling_code(number, expected):
    assert languages.number_language(number) == expected


@pytest.mark.parametrize(("zone", "number", "expected"), [
    ("Asia/Shanghai", UK_MERCHANT, "zh"), ("Asia/Hong_Kong", None, "zh"), ("Europe/London", MERCHANT, "en"),
    ("UTC", MERCHANT, "zh"), ("Etc/Unknown", UK_MERCHANT, "en"), (None, MERCHANT, "zh")])
def test_a_stores_language_follows_its_time_zone_else_its_number(zone, number, expected):
    assert languages.store_language(zone, number) == expected
