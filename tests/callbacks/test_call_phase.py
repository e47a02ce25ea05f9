"""The status page and its JSON tell "Calling the store…" (the merchant's leg) from
"Calling you now…" (the merchant pressed 1 and the bridge rings the shopper), read from
the attempt's legs; the change alters the signature the page's script compares."""

import json
import re

import pytest

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.calllog.operations import open_leg
from tests.callbacks.test_views import ZH, ask, sign_in, text_of
from tests.factories import make_callable_merchant, make_shopper

PROXY = "+8613900000001"


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def calling(client, db):
    """A request whose first attempt has rung the store (its leg is in progress)."""
    store = make_callable_merchant()
    shopper = make_shopper()
    sign_in(client, shopper)
    location = ask(client, store.id).headers["Location"]
    request = db.session.query(CallbackRequest).one()
    request.status = "calling"
    attempt = CallbackAttempt(request=request, seq=1, state="placed", proxy_number=PROXY,
                              merchant_call_sid="CA" + "1" * 32)
    db.session.add(attempt)
    open_leg(attempt.merchant_call_sid, kind="callback_merchant_leg", direction="outbound-api",
             from_number=PROXY, to_number="+8613800138000", status="in-progress", proxy_number=PROXY)
    db.session.commit()
    return request, attempt, location


def page_signature(page: str) -> str:
    import html

    return html.unescape(re.search(r'data-signature="([^"]*)"', page).group(1))


def script_signature(data: dict) -> str:
    """What the page's script (static/callback-status.js) computes from the JSON."""
    attempts = [[a["state"], a["outcome"], a["phase"]] for a in data["attempts"]]
    return json.dumps([data["status"], data["due_at"], data["reason"], attempts],
                      separators=(",", ":"), ensure_ascii=False)


def look(client, location, request_id):
    page = client.get(location).text
    data = client.get(f"/api/v1/callbacks/{request_id}").json
    assert page_signature(page) == script_signature(data)  # the script sees no change
    return page, data


def test_the_store_leg_reads_calling_the_store(client, db, calling):
    request, _, location = calling
    page, data = look(client, location, request.id)
    assert "Calling the store…" in text_of(page) and "Calling you now" not in page
    assert data["call_phase"] == "calling_store"
    assert data["attempts"][0]["phase"] == "calling_store" and data["attempts"][0]["state"] == "placed"


@pytest.mark.parametrize("shopper_leg", [None, "initiated", "ringing"])
def test_the_shoppers_leg_ringing_reads_calling_you_now(client, db, calling, shopper_leg):
    request, attempt, location = calling
    before = page_signature(client.get(location).text)
    attempt.merchant_pressed_connect = True  # the merchant pressed 1: the bridge dials the shopper
    if shopper_leg:
        attempt.shopper_call_sid = "CA" + "2" * 32
        open_leg(attempt.shopper_call_sid, kind="callback_shopper_leg", direction="outbound-dial",
                 from_number=PROXY, to_number="+8613700137000", status=shopper_leg, proxy_number=PROXY)
    db.session.commit()
    page, data = look(client, location, request.id)
    assert "Calling you now…" in text_of(page) and "Your phone is ringing now" in text_of(page)
    assert data["call_phase"] == "calling_shopper" and data["status"] == "calling"
    assert data["attempts"][0]["state"] == "placed" and data["attempts"][0]["phase"] == "calling_shopper"
    assert page_signature(page) != before  # so the page's script redraws it
    assert "正在给您打电话…" in text_of(client.get(location, headers=ZH).text)


def test_the_shopper_answering_reads_connected(client, db, calling):
    request, attempt, location = calling
    attempt.merchant_pressed_connect, attempt.shopper_call_sid = True, "CA" + "2" * 32
    open_leg(attempt.shopper_call_sid, kind="callback_shopper_leg", direction="outbound-dial",
             from_number=PROXY, to_number="+8613700137000", status="in-progress", proxy_number=PROXY)
    request.status = "connected"
    db.session.commit()
    page, data = look(client, location, request.id)
    assert "Connected" in text_of(page) and "Calling you now" not in page
    assert data["call_phase"] == "connected"


def test_an_ended_attempt_has_no_phase(client, db, calling):
    request, attempt, location = calling
    attempt.state, attempt.outcome = "ended", "merchant_no_answer"
    request.status = "scheduled"
    db.session.commit()
    _, data = look(client, location, request.id)
    assert data["call_phase"] is None and data["attempts"][0]["phase"] is None
    assert data["attempts"][0]["state"] == "ended"
