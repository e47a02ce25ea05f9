"""Call events read as sentences a complaint handler understands, in English and Chinese,
with the raw data behind a "Technical details" toggle; status words are translated."""

from __future__ import annotations

import re

import pytest

from registry.callbacks.models import CallbackAttempt
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.models import CallEvent
from registry.calllog.operations import log_event
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.staff import events
from tests.factories import (
    PASSWORD,
    make_call_record,
    make_callable_merchant,
    make_merchant,
    make_shopper,
    make_user,
)
from tests.pages import text_of

SHOPPER, MERCHANT = "+8613700137000", "+8613800138000"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# Twilio's and the log's own words: never shown to a reader outside the technical details.
RAW_WORDS = ("no-answer", "in-progress", "inbound", "outbound", "merchant_pressed_connect", "dial_status",
             "status=", "duration=")
# Status words in English: a Chinese reader never sees them.
ENGLISH_STATUS = ("no answer", "completed", "busy", "ringing", "expired", "queued", "failed")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def staff(client):
    user = make_user("staff", email="agent@example.com")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def readable(page: str) -> str:
    """The page's text without its technical details (what a reader sees before opening them)."""
    main = page.split("<main", 1)[-1].split(">", 1)[-1]
    return text_of(re.sub(r"<details.*?</details>", " ", main, flags=re.S))


def technical(page: str) -> list[str]:
    return [text_of(d) for d in re.findall(r'<details class="event-technical">(.*?)</details>', page, re.S)]


def store_leg_with_events():
    """A callback's store leg: it rang unanswered, then a later try connected the shopper."""
    store = make_merchant(name="Ming's Tea")
    record = make_call_record(store, from_number="+8613900000001", to_number=MERCHANT,
                              kind="callback_merchant_leg", status="completed")
    record.direction = "outbound-api"
    sid = record.call_sid
    log_event("status", {"status": "ringing", "leg": "merchant", "to_masked": record.to_masked},
              call_sid=sid, source="twilio")
    log_event("status", {"status": "no-answer", "leg": "merchant", "duration": 0,
                         "to_masked": record.to_masked}, call_sid=sid, source="twilio")
    log_event("callback", {"event": "merchant_pressed_connect", "request_id": 7, "attempt": 2}, call_sid=sid)
    log_event("dial", {"dial_status": "completed", "duration": 134, "request_id": 7, "attempt": 2,
                       "recording_sid": "RE" + "1" * 32}, call_sid=sid, source="twilio")
    log_event("recording", {"event": "stored", "recording_sid": "RE" + "1" * 32, "bytes": 48000},
              call_sid=sid)
    database.session.commit()
    return record


def test_a_call_page_tells_what_happened_in_sentences(client, staff):
    record = store_leg_with_events()
    page = client.get(f"/staff/calls/{record.id}").text
    text = readable(page)
    for sentence in ("The store's phone (+86 138****8000) is ringing.",
                     "The store's phone (+86 138****8000) rang but nobody answered.",
                     "The store pressed 1 to be connected to the shopper.",
                     "The shopper was connected; the call lasted 2 min 14 s. The conversation was recorded.",
                     "The recording was copied into the platform's storage (48,000 bytes)."):
        assert sentence in text, sentence
    assert not [word for word in RAW_WORDS if word in text.lower()], text
    assert "(placed by the platform)" in text and "Reported by" in text
    # The raw data is one click away, event by event.
    assert page.count("<summary>Technical details</summary>") == 5
    raw = technical(page)
    assert any("status=no-answer" in line and "leg=merchant" in line for line in raw)
    assert any("dial_status=completed" in line and "duration=134" in line for line in raw)
    assert "13800138000" not in page and "138 0013 8000" not in page


def test_the_call_page_in_chinese(client, staff):
    record = store_leg_with_events()
    page = client.get(f"/staff/calls/{record.id}", headers=ZH).text
    text = readable(page)
    for sentence in ("店铺的电话（+86 138****8000）响铃了，但无人接听。", "店铺按了 1，要求接通顾客。",
                     "顾客已接通，通话时长 2 分 14 秒。 通话已录音。", "由平台拨出", "技术详情"):
        assert sentence in text or sentence in page, sentence
    assert not [word for word in (*RAW_WORDS, *ENGLISH_STATUS) if word in text.lower()], text
    assert "The store" not in text and "rang but" not in text


def test_a_relayed_call_and_a_refused_one(client, staff):
    store = make_merchant()
    relayed = make_call_record(store, from_number=SHOPPER, to_number="+8613900000001", kind="relay")
    log_event("routing", {"decision": "connect", "binding_id": 4, "to_masked": "+86 138****8000"},
              call_sid=relayed.call_sid)
    log_event("status", {"status": "completed", "duration": 45}, call_sid=relayed.call_sid, source="twilio")
    log_event("dial", {"dial_status": "no-answer", "duration": 0}, call_sid=relayed.call_sid, source="twilio")
    refused = make_call_record(None, from_number=SHOPPER, to_number="+8613900000001", kind="intercepted")
    log_event("routing", {"decision": "refuse", "reason": "no active binding for this caller"},
              call_sid=refused.call_sid)
    database.session.commit()
    text = readable(client.get(f"/staff/calls/{relayed.id}").text)
    for sentence in ("The caller is paired with +86 138****8000 (binding #4): the call is put through.",
                     "The call from +86 137****7000 ended after 45 s.",
                     "The forwarded call rang but nobody answered."):
        assert sentence in text, sentence
    text = readable(client.get(f"/staff/calls/{refused.id}").text)
    assert "The call was refused: the caller has no active pairing with a store." in text
    zh = readable(client.get(f"/staff/calls/{refused.id}", headers=ZH).text)
    assert "电话被拒绝：来电者没有与任何店铺的有效配对。" in zh


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_kind_of_event_has_a_sentence(app, language):
    """Each kind and outcome the app logs is worded; none falls back to the raw data."""
    cases = [
        ("status", {"status": s, "leg": leg, "to_masked": "+86 138****8000", "duration": 20})
        for s in ("queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer",
                  "failed", "canceled") for leg in ("merchant", "shopper")
    ] + [
        ("dial", {"dial_status": s, "duration": 5, **extra})
        for s in ("completed", "busy", "no-answer", "failed", "canceled") for extra in ({}, {"request_id": 1})
    ] + [
        ("routing", {"decision": "connect", "binding_id": 1}), ("routing", {"decision": "ask_extension"}),
        *[("routing", {"decision": "refuse", "reason": r}) for r in events.REFUSALS],
        ("sms", {"decision": "relay", "binding_id": 3, "from_masked": "+86 137****7000"}),
        ("sms", {"decision": "intercepted", "reason": "shared number takes calls only"}),
        ("callback", {"event": "merchant_answered", "attempt": 1}),
        ("callback", {"event": "merchant_pressed_connect"}),
        ("callback", {"event": "settled_without_webhook", "attempt": 2, "merchant_status": "completed",
                      "shopper_status": "no-answer"}),
        ("recording", {"event": "stored", "bytes": 10}), ("recording", {"event": "deleted"}),
    ]
    headers = ZH if language == "zh" else {}
    with app.test_request_context("/", headers=headers):
        sentences = [events.describe(CallEvent(kind=kind, source="app", data=data)) for kind, data in cases]
        redacted = events.describe(CallEvent(kind="status", source="twilio", data={}, redacted_at=utcnow()))
        unknown = events.describe(CallEvent(kind="fax", source="app", data={"pages": 2}))
    for (kind, data), sentence in zip(cases, sentences, strict=True):
        assert "=" not in sentence and "Event “" not in sentence and "事件“" not in sentence, (kind, data)
        assert not [w for w in ("no-answer", "in-progress", "None", "_") if w in sentence], sentence
        if language == "zh":
            assert re.search(r"[\u4e00-\u9fff]", sentence), sentence
            assert not re.search(r"\b(the|was|call)\b", sentence), sentence
    assert len(set(sentences)) > 40
    assert ("retention" in redacted) if language == "en" else ("保留期限" in redacted)
    assert "fax" in unknown


def test_status_words_on_the_callback_timeline_in_chinese(client, staff, app):
    store = make_callable_merchant(MERCHANT, name="Ming's Tea")
    request = request_callback(make_shopper(SHOPPER), store.id, "asap", "A-9", "",
                               CallbackPolicy.from_config(app.config))
    leg = make_call_record(store, from_number="+8613900000001", to_number=MERCHANT,
                           kind="callback_merchant_leg", callback_request_id=request.id)
    leg.direction = "outbound-api"
    database.session.add(CallbackAttempt(request_id=request.id, seq=1, state="ended",
                                         outcome="merchant_no_answer", proxy_number="+8613900000001",
                                         placed_at=utcnow(), ended_at=utcnow(),
                                         merchant_call_sid=leg.call_sid))
    log_event("status", {"status": "no-answer", "leg": "merchant", "request_id": request.id, "attempt": 1},
              call_sid=leg.call_sid, source="twilio")
    request.status, request.ended_at = "expired", utcnow()
    request.reason = "the store did not take the call after 1 attempts"
    database.session.commit()
    page = client.get(f"/staff/callbacks/{request.id}", headers=ZH).text
    text = readable(page)
    for words in ("已过期", "第 1 次尝试结束：店铺未接听", "请求结束：已过期", "平台", "技术详情",
                  "店铺的电话（+86 138****8000）响铃了，但无人接听。"):
        assert words in text or words in page, words
    assert not [w for w in (*RAW_WORDS, *ENGLISH_STATUS, "merchant_no_answer") if w in text.lower()], text
    english = readable(client.get(f"/staff/callbacks/{request.id}").text)
    assert "Attempt 1 ended: the store did not answer" in english
    assert "Request ended: expired — " not in english and "Request ended: expired" in english
    calls = readable(client.get("/staff/calls", headers=ZH).text)
    assert "由平台拨出" in calls and "outbound" not in calls
