"""The shopper's callback pages through the test client: the store page's
button, number and code, choosing a time, the status page, cancelling."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.shoppers.models import Shopper
from tests.factories import make_callable_merchant, make_merchant, make_number, make_shopper
from tests.pages import field_error, text_of

PHONE = "+8613700137000"
MERCHANT_DIGITS = ("13800138000", "138 0013 8000", "138****8000")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def app_overrides():
    # Always inside the shopper's calling hours, so "as soon as possible" is now.
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def store():
    return make_callable_merchant()


def sign_in(client, shopper) -> None:
    """Sign the browser in as `shopper`, as the code step does."""
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id


def count(db, model=CallbackRequest) -> int:
    return db.session.query(model).count()


def ask(client, store_id, **fields):
    fields.setdefault("when", "asap")
    return client.post(f"/stores/{store_id}/callback", data=fields)


def slot_values(page: str) -> list[str]:
    return re.findall(r'name="when" value="([^"]+)"', page)[1:]


# -- the store page ---------------------------------------------------------------


def test_a_callable_store_shows_the_button(client, store):
    page = client.get(f"/stores/{store.id}")
    assert f'href="/stores/{store.id}/callback"' in page.text and "Call me back" in page.text
    assert not any(digits in page.text for digits in MERCHANT_DIGITS)


def unverified_store():
    store = make_merchant(name="New Shop")
    make_number(store, "+8613800138000")
    return store


def suspended_store():
    store = make_callable_merchant(name="Bad Shop")
    store.status = "suspended"
    database.session.commit()
    return store


@pytest.mark.parametrize(
    ("make", "reason", "chinese"),
    [
        (unverified_store, "This store has no verified phone number yet.", "该店铺尚未认证电话号码。"),
        (suspended_store, "This store is suspended and cannot take callback requests.",
         "该店铺已被暂停，无法接受回拨请求。"),
    ],
)
def test_a_store_that_cannot_take_callbacks_says_why(client, make, reason, chinese):
    store = make()
    page = client.get(f"/stores/{store.id}")
    assert reason in text_of(page.text)
    assert f"/stores/{store.id}/callback" not in page.text
    assert chinese in text_of(client.get(f"/stores/{store.id}", headers=ZH).text)
    assert client.get(f"/stores/{store.id}/callback").headers["Location"] == f"/stores/{store.id}"


# -- number, code, request ----------------------------------------------------------


def test_number_then_code_then_request(client, db, simulator, store):
    start = client.get(f"/stores/{store.id}/callback")
    assert start.status_code == 302
    assert start.headers["Location"] == f"/shopper/phone?next=/stores/{store.id}/callback"
    assert client.get(start.headers["Location"]).status_code == 200
    sent = client.post(start.headers["Location"], data={"phone": "137 0013 7000"})
    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/shopper/code?next=/stores/{store.id}/callback"
    code_page = client.get(sent.headers["Location"])
    assert "+86 137 0013 7000" in code_page.text and "We sent a code by text message" in code_page.text
    confirmed = client.post(sent.headers["Location"], data={"code": simulator.state.last_code(PHONE)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"/stores/{store.id}/callback"

    form = client.get(f"/stores/{store.id}/callback")
    assert form.status_code == 200
    assert "As soon as possible" in form.text and "Shanghai, UTC+08:00" in text_of(form.text)
    assert "+86 137****7000" in form.text
    assert len(slot_values(form.text)) >= 300
    created = ask(client, store.id, order_ref="A-1234", note="About the green tea")
    assert created.status_code == 302
    request = db.session.query(CallbackRequest).one()
    assert created.headers["Location"] == f"/callbacks/{request.id}"
    assert request.status == "scheduled" and request.asap and request.order_ref == "A-1234"
    assert db.session.get(Shopper, request.shopper_id).phone == PHONE

    status = client.get(f"/callbacks/{request.id}")
    words = text_of(status.text)
    assert status.status_code == 200 and "Tea House" in words
    assert re.search(r"Scheduled for \w{3} \d{1,2} \w{3} \d\d:\d\d \(Shanghai, UTC\+08:00\)", words), words
    assert "Attempts so far 0" in words and "A-1234" in words and "Cancel this callback" in words
    assert not any(digits in status.text for digits in MERCHANT_DIGITS)

    other_store = make_callable_merchant("+8613800138001", name="Second Shop")
    assert client.get(f"/stores/{other_store.id}/callback").status_code == 200  # already proved


def test_a_slot_is_due_at_its_start(client, db, store):
    sign_in(client, make_shopper())
    slot = slot_values(client.get(f"/stores/{store.id}/callback").text)[5]
    assert ask(client, store.id, when=slot).status_code == 302
    request = db.session.query(CallbackRequest).one()
    assert request.due_at.replace(tzinfo=UTC) == datetime.fromisoformat(slot) and not request.asap


@pytest.mark.parametrize("app_overrides", [{}])  # the default calling hours, 08:00 to 21:00
@pytest.mark.parametrize(("phone", "zone", "city"), [
    (PHONE, "Asia/Shanghai", "Shanghai"), ("+12125550123", "America/New_York", "New York")])
def test_slots_keep_to_calling_hours_in_the_shoppers_zone(client, store, phone, zone, city):
    sign_in(client, make_shopper(phone))
    page = client.get(f"/stores/{store.id}/callback").text
    assert f"Times are in your time zone, {city}, UTC" in text_of(page)
    values = slot_values(page)
    assert 150 <= len(values) <= 7 * 26
    for value in values:
        local = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
        assert 8 <= local.hour < 21, local
        label = f"{local:%H:%M}–{local + timedelta(minutes=30):%H:%M}"
        assert re.search(rf'value="{re.escape(value)}"\s+aria-label="[^"]*, {label}"', page), label


@pytest.mark.parametrize("app_overrides", [{}])
def test_no_common_time_says_so(client, db):
    # Open 09:00-17:00 in New York: 21:00 to 06:00 in Shanghai, outside a shopper's 08:00-21:00.
    store = make_merchant(business_hours={"mon": [["09:00", "17:00"]]}, timezone="America/New_York")
    make_number(store, "+8613800138000", status="verified")
    sign_in(client, make_shopper())
    page = client.get(f"/stores/{store.id}/callback")
    assert "No time in the next 7 days suits both" in text_of(page.text)
    assert 'name="when"' not in page.text


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "message"),
    [("138abc", "may contain only digits"), ("", "Enter a phone number."),
     ("+1 900 555 0100", "premium-rate"), ("1" * 10_240, "too long to be a phone number")],
)
def test_a_bad_number_is_shown_by_its_field(client, db, phone, message):
    response = client.post("/shopper/phone?next=/", data={"phone": phone})
    assert response.status_code == 422 and message in field_error(response.text, "phone")
    assert count(db, Shopper) == 0


def test_wrong_code_and_too_soon_a_resend(client, db, simulator, store):
    client.post("/shopper/phone", data={"phone": PHONE})
    wrong = "111111" if simulator.state.last_code(PHONE) != "111111" else "222222"
    refused = client.post("/shopper/code", data={"code": wrong})
    assert refused.status_code == 400
    assert field_error(refused.text, "code") == "That code is not right. 4 attempts left."
    assert count(db, Shopper) == 0
    assert client.get(f"/stores/{store.id}/callback").headers["Location"].startswith("/shopper/phone")
    again = client.post("/shopper/code/resend")
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 50
    assert f"you can ask for another in {again.headers['Retry-After']} seconds" in text_of(again.text)
    assert "disabled" in re.search(r'<button[^>]*id="send-code"[^>]*>', again.text).group(0)
    assert client.post("/shopper/code", data={"code": "12ab"}).status_code == 422


def test_code_page_without_a_number_goes_back_to_the_number(client):
    assert client.get("/shopper/code?next=/stores/1/callback").headers["Location"] == \
        "/shopper/phone?next=/stores/1/callback"
    page = client.get("/shopper/phone?next=https://evil.example/")
    assert page.status_code == 200 and 'action="/shopper/phone?next=/"' in page.text
    assert 'href="https://evil.example/"' not in page.text


def past_slot() -> str:
    return (utcnow() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "message", "status"),
    [
        ({"when": "tomorrow"}, "when", "Choose a time from the list.", 422),
        ({"when": "past"}, "when", "That time has already passed; choose another.", 422),
        ({"when": "2099-01-01T10:00:00+00:00"}, "when", "within the next 7 days", 422),
        ({"order_ref": "x" * 65}, "order_ref", "The order number must be at most 64 characters.", 422),
        ({"note": "y" * 10_240}, "note", "The note must be at most 500 characters.", 422),
    ],
)
def test_bad_request_input_is_shown_by_its_field(client, db, store, fields, field, message, status):
    sign_in(client, make_shopper())
    if fields.get("when") == "past":
        fields["when"] = past_slot()
    response = ask(client, store.id, **fields)
    assert response.status_code == status and message in field_error(response.text, field)
    assert 'name="when"' in response.text  # the form again
    if field != "when":
        assert 'value="asap" checked' in re.sub(r"\s+", " ", response.text)
    assert count(db) == 0


def test_outside_the_stores_hours_is_refused(client, db):
    store = make_callable_merchant(hours={"mon": [["09:00", "10:00"]]})
    sign_in(client, make_shopper())
    closed = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    while closed.astimezone(ZoneInfo("Asia/Shanghai")).weekday() == 0:
        closed += timedelta(days=1)
    response = ask(client, store.id, when=closed.isoformat())
    assert response.status_code == 422
    assert "outside the store's business hours" in field_error(response.text, "when")
    assert count(db) == 0


def test_a_second_open_request_links_to_the_first(client, db, store):
    sign_in(client, make_shopper())
    first = ask(client, store.id).headers["Location"]
    again = ask(client, store.id)
    assert again.status_code == 409 and f'href="{first}"' in again.text
    assert "You already have an open callback request with this store." in text_of(again.text)
    assert count(db) == 1


# -- the status page ------------------------------------------------------------------


@pytest.fixture
def requested(client, db, store):
    shopper = make_shopper()
    sign_in(client, shopper)
    location = ask(client, store.id).headers["Location"]
    return db.session.query(CallbackRequest).one(), location


def test_only_its_shopper_sees_it(client, app, requested):
    request, location = requested
    assert client.get(location).status_code == 200
    stranger = app.test_client()
    assert stranger.get(location).status_code == 404
    sign_in(stranger, make_shopper("+8613700137999"))
    refused = stranger.get(location)
    assert refused.status_code == 404 and "No such callback request." in refused.text
    assert "Tea House" not in refused.text
    assert stranger.post(f"{location}/cancel").status_code == 404
    assert client.get("/callbacks/999999").status_code == 404


def test_cancel(client, db, requested):
    request, location = requested
    canceled = client.post(f"{location}/cancel")
    assert canceled.status_code == 302 and canceled.headers["Location"] == location
    db.session.expire_all()
    assert db.session.get(CallbackRequest, request.id).status == "canceled"
    page = text_of(client.get(location).text)
    assert "Canceled" in page and "Your callback request is canceled." in page
    assert "Cancel this callback" not in page


def test_a_call_under_way_cannot_be_canceled(client, db, requested):
    request, location = requested
    request.status = "calling"
    db.session.commit()
    page = client.get(location)
    assert "Calling the store…" in text_of(page.text) and "Cancel this callback" not in page.text
    refused = client.post(f"{location}/cancel")
    assert refused.status_code == 409 and "already under way" in text_of(refused.text)
    db.session.expire_all()
    assert db.session.get(CallbackRequest, request.id).status == "calling"


@pytest.mark.parametrize("app_overrides", [{"SHOPPER_CALL_HOURS": "00:00-24:00", "WTF_CSRF_ENABLED": True}])
def test_cancel_needs_the_forms_token(client, db, store):
    from registry.callbacks.operations import CallbackPolicy, request_callback

    shopper = make_shopper()
    request = request_callback(shopper, store.id, "asap", None, None,
                               CallbackPolicy(shopper_call_hours="00:00-24:00"))
    db.session.commit()
    sign_in(client, shopper)
    location = f"/callbacks/{request.id}"
    assert client.post(f"{location}/cancel").status_code == 400
    db.session.expire_all()
    assert db.session.get(CallbackRequest, request.id).status == "scheduled"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(location).text).group(1)
    assert client.post(f"{location}/cancel", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CallbackRequest, request.id).status == "canceled"


def test_attempts_and_the_platform_number_never_the_stores(client, db, requested):
    request, location = requested
    db.session.add(CallbackAttempt(request=request, seq=1, state="ended", outcome="merchant_no_answer",
                                   proxy_number="+8613900000001"))
    request.reason = "the store did not answer; trying again"
    db.session.commit()
    page = client.get(location)
    words = text_of(page.text)
    assert "Attempts so far 1" in words and "the store did not answer" in words
    assert "the store did not answer; we will try again" in words
    assert "+86 139 0000 0001" in words
    assert not any(digits in page.text for digits in MERCHANT_DIGITS)


@pytest.mark.parametrize(
    ("status", "reason", "english", "chinese"),
    [
        ("scheduled", None, "Scheduled for", "已安排在"),
        ("calling", None, "Calling the store…", "正在呼叫店铺…"),
        ("connected", None, "Connected", "已接通"),
        ("completed", None, "Completed", "已完成"),
        ("failed", "you did not answer the callback", "Failed — you did not answer the callback",
         "失败 — 您没有接听回拨电话"),
        ("expired", "the store did not take the call after 3 attempts",
         "Expired — the store did not take the call after 3 attempts", "已过期 — 店铺在 3 次尝试后仍未接听"),
        ("canceled", "canceled by the shopper", "Canceled", "已取消"),
    ],
)
def test_status_words_in_english_and_chinese(client, db, requested, status, reason, english, chinese):
    request, location = requested
    request.status, request.reason = status, reason
    db.session.commit()
    assert english in text_of(client.get(location).text)
    page = client.get(location, headers=ZH)
    assert chinese in text_of(page.text) and '<html lang="zh-Hans">' in page.text
    if status == "scheduled":
        assert re.search(r"已安排在 \d{1,2}月\d{1,2}日 周. \d\d:\d\d（上海, UTC\+08:00）", text_of(page.text))


def test_the_request_form_in_chinese(client, store):
    sign_in(client, make_shopper())
    page = text_of(client.get(f"/stores/{store.id}/callback", headers=ZH).text)
    assert "尽快" in page and "今天" in page and "明天" in page and "上海, UTC+08:00" in page
    refused = client.post(f"/stores/{store.id}/callback", data={"when": "tomorrow"}, headers=ZH)
    assert refused.status_code == 422 and "请从列表中选择时间。" in field_error(refused.text, "when")


def test_the_number_and_code_pages_in_chinese(client, simulator, store):
    assert "请给我回电" in text_of(client.get(f"/stores/{store.id}", headers=ZH).text)
    refused = client.post("/shopper/phone", data={"phone": "+1 800 555 0100"}, headers=ZH)
    assert "这是免费电话号码，请输入手机或固定电话号码。" in field_error(refused.text, "phone")
    client.post("/shopper/phone", data={"phone": PHONE}, headers=ZH)
    page = text_of(client.get("/shopper/code", headers=ZH).text)
    assert "我们已通过短信向 +86 137 0013 7000 发送验证码。" in page and "输入验证码" in page
