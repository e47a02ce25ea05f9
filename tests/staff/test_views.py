"""The staff console through the test client: who may enter, search, reveal, export, the dashboard,
a callback's timeline, and a complaint from the queue to a suspension."""

import csv
import html
import io
import re

import pytest

from registry.audit.models import StaffAudit
from registry.callbacks.models import CallbackAttempt
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.operations import log_event
from registry.complaints.models import Complaint
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.merchants.models import MerchantNumber
from tests.factories import (
    PASSWORD,
    make_binding,
    make_call_record,
    make_callable_merchant,
    make_merchant,
    make_proxy,
    make_shopper,
    make_user,
)
from tests.pages import field_error, text_of

SHOPPER, MERCHANT, OTHER = "+8613700137000", "+8613800138000", "+8613600136000"
SHOPPER_DIGITS = ("13700137000", "137 0013 7000")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
PAGES = ("/staff/", "/staff/calls", "/staff/calls/1", "/staff/callbacks/1", "/staff/complaints",
         "/staff/complaints/1", "/staff/audit", "/staff/calls/export", "/staff/calls/1/recording")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


@pytest.fixture
def staff(client):
    user = make_user("staff", email="agent@example.com")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-record-id="(\d+)"', page)]


def stored_copy(record) -> None:
    """Mark the leg's recording as copied into the platform's storage (where that is tracked)."""
    if hasattr(type(record), "recording_status"):
        record.recording_status = "stored"


def audits(action: str) -> list[StaffAudit]:
    database.session.expire_all()
    return database.session.query(StaffAudit).filter_by(action=action).order_by(StaffAudit.id).all()


# -- who may enter ----------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), path


def test_merchants_and_shoppers_are_refused(client, db):
    owner = make_user("merchant")
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert client.post("/staff/complaints/1/resolve", data={"action": "none"}).status_code == 403
    client.post("/logout")
    with client.session_transaction() as session:
        session["shopper_id"] = make_shopper().id
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403 and "staff account" in response.text, path
    assert client.post("/staff/calls/1/reveal", data={"side": "from", "reason": "x" * 20}).status_code == 403
    assert audits("reveal") == [] and audits("view") == []


def test_staff_see_the_console_link(client, staff):
    page = client.get("/").text
    assert 'href="/staff/"' in page and "Staff console" in page


# -- searching --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+86 137 0013 7000", "13700137000", "137-0013-7000", "(137) 0013 7000",
                                   "＋８６１３７００１３７０００", "0086 137 0013 7000"])
def test_search_by_phone_in_any_format(client, staff, typed):
    store = make_merchant()
    mine = make_call_record(store, from_number=SHOPPER, to_number=MERCHANT)
    make_call_record(store, from_number=OTHER, to_number=MERCHANT)
    page = client.get("/staff/calls", query_string={"phone": typed})
    assert page.status_code == 200 and listed(page.text) == [mine.id]
    assert "+86 137****7000" in page.text
    assert not any(d in page.text.replace(typed, "") for d in SHOPPER_DIGITS)
    [entry] = audits("search")
    assert entry.detail == {"phone": "given"} and entry.staff_id == staff.id  # never the digits


def test_other_filters(client, staff):
    first, second = make_merchant(name="First"), make_merchant(name="Second")
    a = make_call_record(first, status="completed", proxy="+8613900000001")
    b = make_call_record(first, status="busy", kind="intercepted", proxy="+8613900000002")
    c = make_call_record(second, status="busy")

    def found(**query):
        response = client.get("/staff/calls", query_string=query)
        assert response.status_code == 200, response.text
        return listed(response.text)

    assert found() == [c.id, b.id, a.id]
    assert found(merchant_id=first.id) == [b.id, a.id]
    assert found(merchant_id=first.id, status="busy") == [b.id]
    assert found(kind="intercepted") == [b.id]
    assert found(proxy_number="139 0000 0002") == [b.id]
    assert found(call_sid=a.call_sid) == [a.id]
    today = utcnow().date().isoformat()
    assert found(since=today, until=today) == [c.id, b.id, a.id]  # "to" includes the whole day
    assert found(until="2020-01-01") == []
    assert found(has_complaint="true") == []


@pytest.mark.parametrize("typed", ["call me maybe", "1-800-FLOWERS", "+86 138", "12"])
def test_an_unreadable_phone_is_refused_on_the_form(client, staff, typed):
    make_call_record(make_merchant())
    page = client.get("/staff/calls", query_string={"phone": typed, "status": "busy"})
    assert page.status_code == 422
    assert field_error(page.text, "phone") and 'aria-invalid="true"' in page.text
    assert f'value="{html.escape(typed, quote=True)}"' in page.text  # what was typed stays
    assert listed(page.text) == [] and audits("search") == []


def test_reversed_dates_are_refused_by_the_end_date(client, staff):
    page = client.get("/staff/calls", query_string={"since": "2026-03-10", "until": "2026-03-05"})
    assert page.status_code == 422
    assert field_error(page.text, "until") == "The end date is before the start date."
    bad = client.get("/staff/calls", query_string={"since": "10/03/2026"})
    assert bad.status_code == 422 and field_error(bad.text, "since") == "Enter a date as YYYY-MM-DD."
    zh = client.get("/staff/calls", query_string={"since": "2026-03-10", "until": "2026-03-05"}, headers=ZH)
    assert field_error(zh.text, "until") == "结束日期早于开始日期。"


def test_results_are_paged_with_the_cursor_and_keep_the_filters(client, staff):
    store, other = make_merchant(), make_merchant(name="Other")
    made = [make_call_record(store).id for _ in range(30)]
    make_call_record(other)
    first = client.get("/staff/calls", query_string={"merchant_id": store.id})
    assert listed(first.text) == made[::-1][:25]
    link = html.unescape(re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1))
    assert f"merchant_id={store.id}" in link and "cursor=" in link
    second = client.get(link)
    assert listed(second.text) == made[::-1][25:]
    assert 'rel="next"' not in second.text and "First page" in second.text
    assert len(audits("search")) == 2


# -- a call, revealing a number -----------------------------------------------------


def test_a_call_shows_masked_numbers_and_its_events(client, staff):
    record = make_call_record(make_merchant(name="Ming's Tea"), from_number=SHOPPER, to_number=MERCHANT)
    log_event("status", {"status": "completed", "from_masked": record.from_masked}, call_sid=record.call_sid,
              source="twilio")
    database.session.commit()
    page = client.get(f"/staff/calls/{record.id}")
    assert page.status_code == 200
    assert "+86 137****7000" in page.text and "+86 138****8000" in page.text
    assert not any(d in page.text for d in (*SHOPPER_DIGITS, "13800138000", "138 0013 8000"))
    assert record.call_sid in page.text and "status=completed" in text_of(page.text)
    assert "Ming&#39;s Tea" in page.text and "<audio" not in page.text
    assert [a.target for a in audits("view")] == [f"call_record:{record.id}"]
    assert client.get("/staff/calls/999999").status_code == 404


@pytest.mark.parametrize("reason", ["", "checking", " " * 20])
def test_a_reveal_needs_a_reason(client, staff, reason):
    record = make_call_record(make_merchant(), from_number=SHOPPER)
    page = client.post(f"/staff/calls/{record.id}/reveal", data={"side": "from", "reason": reason})
    assert page.status_code == 422
    assert "at least 10 characters" in field_error(page.text, "reason")
    assert not any(d in page.text for d in SHOPPER_DIGITS)
    assert audits("reveal") == []


def test_a_reveal_shows_the_number_once_and_is_audited(client, staff):
    record = make_call_record(make_merchant(), from_number=SHOPPER, to_number=MERCHANT)
    reason = "Complaint 12: the shopper says this number called at night."
    page = client.post(f"/staff/calls/{record.id}/reveal", data={"side": "from", "reason": reason})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="revealed-number">\+86 137 0013 7000<', page.text)
    assert "138 0013 8000" not in page.text  # only the side asked for
    [entry] = audits("reveal")
    assert (entry.staff_id, entry.target, entry.reason) == (staff.id, f"call_record:{record.id}:from", reason)
    again = client.get(f"/staff/calls/{record.id}")
    assert not any(d in again.text for d in SHOPPER_DIGITS)
    audit_page = client.get("/staff/audit")
    assert reason.replace("'", "&#39;") in audit_page.text and "agent@example.com" in audit_page.text
    assert f'href="/staff/calls/{record.id}"' in audit_page.text


def test_the_recording_player_and_its_stream(client, staff, app, tmp_path, monkeypatch):
    record = make_call_record(make_merchant())
    record.recording_sid, record.recording_url = "RE" + "0" * 32, "http://sim/rec.wav"
    stored_copy(record)
    database.session.commit()
    page = client.get(f"/staff/calls/{record.id}")
    assert f'<audio controls preload="none" src="/staff/calls/{record.id}/recording">' in page.text
    try:
        from registry.calllog import recordings
    except ImportError:
        assert client.get(f"/staff/calls/{record.id}/recording").status_code == 404
        return
    stored = tmp_path / "rec.wav"
    stored.write_bytes(b"RIFF....WAVEfmt ")
    monkeypatch.setattr(recordings, "local_path", lambda r: stored if r.id == record.id else None)
    response = client.get(f"/staff/calls/{record.id}/recording")
    assert response.status_code == 200 and response.data == stored.read_bytes()
    assert [a.target for a in audits("listen")] == [f"call_record:{record.id}"]


# -- a callback request's timeline ----------------------------------------------------


def test_a_callback_request_shows_its_whole_timeline(client, staff, app):
    store = make_callable_merchant(MERCHANT, name="Ming's Tea")
    shopper = make_shopper(SHOPPER)
    request = request_callback(shopper, store.id, "asap", "A-77", "About the green tea",
                               CallbackPolicy.from_config(app.config))
    make_proxy()
    binding = make_binding(MERCHANT, SHOPPER, merchant_id=store.id)
    request.binding_id = binding.id
    merchant_leg = make_call_record(store, from_number="+8613900000001", to_number=MERCHANT,
                                    kind="callback_merchant_leg", callback_request_id=request.id)
    shopper_leg = make_call_record(store, from_number="+8613900000001", to_number=SHOPPER,
                                   kind="callback_shopper_leg", callback_request_id=request.id)
    database.session.add(CallbackAttempt(request_id=request.id, seq=1, state="ended", outcome="completed",
                                         proxy_number="+8613900000001", placed_at=utcnow(), ended_at=utcnow(),
                                         merchant_call_sid=merchant_leg.call_sid,
                                         shopper_call_sid=shopper_leg.call_sid))
    log_event("callback", {"event": "merchant_pressed_connect", "request_id": request.id},
              call_sid=merchant_leg.call_sid)
    log_event("status", {"status": "completed", "leg": "shopper"}, call_sid=shopper_leg.call_sid,
              source="twilio")
    request.status, request.ended_at = "completed", utcnow()
    shopper_leg.recording_url = "http://sim/rec.wav"
    stored_copy(shopper_leg)
    database.session.commit()
    page = client.get(f"/staff/callbacks/{request.id}")
    assert page.status_code == 200
    text = text_of(page.text)
    for expected in ("Callback requested", "Attempt 1 started", "Attempt 1 placed with Twilio",
                     "Attempt 1 ended", "event=merchant_pressed_connect", "leg=shopper status=completed",
                     f"Binding {binding.id} created", "platform number +86 139 0000 0001", "A-77",
                     "About the green tea", "Request ended: completed", "+86 137****7000"):
        assert expected in text, expected
    assert f'href="/staff/calls/{merchant_leg.id}"' in page.text
    assert f'src="/staff/calls/{shopper_leg.id}/recording"' in page.text
    assert not any(d in page.text for d in SHOPPER_DIGITS)
    assert [a.target for a in audits("view")] == [f"callback_request:{request.id}"]
    call_page = client.get(f"/staff/calls/{merchant_leg.id}")
    assert f'href="/staff/callbacks/{request.id}"' in call_page.text


# -- export -------------------------------------------------------------------------------


def test_export_has_masked_numbers_only_and_is_audited(client, staff):
    store = make_merchant()
    made = [make_call_record(store, from_number=SHOPPER, to_number=MERCHANT) for _ in range(3)]
    make_call_record(make_merchant(name="Other"))
    response = client.get("/staff/calls/export", query_string={"merchant_id": store.id})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["id", "call_sid", "kind", "direction", "status", "from", "to", "proxy",
                             "merchant_id", "created_at", "duration"]
    assert [int(r["id"]) for r in rows] == [r.id for r in made[::-1]]
    assert {r["from"] for r in rows} == {"+86 137****7000"} and {r["to"] for r in rows} == {"+86 138****8000"}
    assert not any(d in response.text for d in (*SHOPPER_DIGITS, "13800138000"))
    [entry] = audits("export")
    assert entry.detail == {"merchant_id": store.id, "rows": 3, "truncated": False}


def test_export_is_capped_and_says_so(client, staff, monkeypatch):
    from registry.staff import export

    monkeypatch.setattr(export, "MAX_ROWS", 2)
    store = make_merchant()
    for _ in range(3):
        make_call_record(store)
    response = client.get("/staff/calls/export")
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == 2
    assert response.headers["X-Export-Truncated"] == "true" and "calls-first-2.csv" in \
        response.headers["Content-Disposition"]
    assert audits("export")[0].detail["truncated"] is True
    page = client.get("/staff/calls")
    assert "The export holds at most 2 calls" in page.text
    refused = client.get("/staff/calls/export", query_string={"phone": "nope"})
    assert refused.status_code == 422 and audits("export") == audits("export")[:1]


# -- the dashboard ------------------------------------------------------------------------


def test_the_dashboard_draws_its_charts_without_external_assets(client, staff):
    store = make_callable_merchant(MERCHANT, name="Busy Shop")
    shopper = make_shopper(SHOPPER)
    for status in ("completed", "no-answer", "busy"):
        record = make_call_record(store, status=status, kind="callback_merchant_leg")
        if status == "completed":
            record.answered_at = utcnow()
    database.session.add(Complaint(filed_by="shopper", shopper_id=shopper.id, merchant_id=store.id,
                                   category="rude", text="Shouted at me."))
    database.session.commit()
    make_proxy()
    page = client.get("/staff/")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4 and 'id="chart-calls"' in page.text
    assert 'id="chart-answer-rate"' in page.text and 'id="chart-pool"' in page.text
    assert f"Busy Shop (#{store.id})" in page.text and ">33%<" in page.text and ">3<" in page.text
    for attribute, value in re.findall(r'\b(src|href|xlink:href|action)="([^"]*)"', page.text):
        assert value.startswith(("/", "#", "?")) or value.startswith("http://localhost/"), (attribute, value)
    assert "cdn" not in page.text.lower() and "<script src" not in page.text
    assert "1 / 200" in text_of(page.text) or "0 / 200" in text_of(page.text)


# -- complaints: queue, assign, resolve with a suspension --------------------------------


def test_a_complaint_from_the_queue_to_a_suspension(client, staff, app):
    store = make_callable_merchant(MERCHANT, name="Night Caller")
    shopper = make_shopper(SHOPPER)
    request = request_callback(shopper, store.id, "asap", None, None, CallbackPolicy.from_config(app.config))
    request.status = "completed"
    database.session.add(Complaint(filed_by="shopper", shopper_id=shopper.id, merchant_id=store.id,
                                   callback_request_id=request.id, category="harassment",
                                   text="They called me five times after 22:00."))
    database.session.commit()
    complaint = database.session.query(Complaint).one()
    assert "Call me back" in client.get(f"/stores/{store.id}").text

    queue = client.get("/staff/complaints", query_string={"status": "open"})
    assert f'data-complaint-id="{complaint.id}"' in queue.text and "Night Caller" in queue.text
    assert client.get("/staff/complaints", query_string={"status": "bogus"}).status_code == 422
    assert f'data-complaint-id="{complaint.id}"' not in client.get(
        "/staff/complaints", query_string={"status": "resolved"}).text
    page = client.get(f"/staff/complaints/{complaint.id}")
    assert "They called me five times after 22:00." in page.text and "+86 137****7000" in page.text
    assert f'href="/staff/callbacks/{request.id}"' in page.text and "Assign to me" in page.text

    assigned = client.post(f"/staff/complaints/{complaint.id}/assign", follow_redirects=True)
    assert "The complaint is assigned to you." in assigned.text and "agent@example.com" in assigned.text
    assert "Assign to me" not in assigned.text
    short = client.post(f"/staff/complaints/{complaint.id}/resolve",
                        data={"action": "suspend_number", "resolution": "bad"})
    assert short.status_code == 422 and "at least 10 characters" in field_error(short.text, "resolution")
    database.session.expire_all()
    assert database.session.query(MerchantNumber).one().status == "verified"

    done = client.post(f"/staff/complaints/{complaint.id}/resolve", follow_redirects=True, data={
        "action": "suspend_number", "resolution": "Five night calls confirmed in the log."})
    assert "The complaint is resolved: Suspend the store&#39;s number." in done.text
    database.session.expire_all()
    assert database.session.query(MerchantNumber).one().status == "suspended"
    assert database.session.get(Complaint, complaint.id).status == "resolved"
    assert {a.action for a in database.session.query(StaffAudit)} >= {"assign", "suspend", "resolve", "list"}
    store_page = client.get(f"/stores/{store.id}")
    assert "Call me back" not in store_page.text and f"/stores/{store.id}/callback" not in store_page.text
    again = client.post(f"/staff/complaints/{complaint.id}/resolve",
                        data={"action": "none", "resolution": "Trying to resolve it twice."})
    assert again.status_code == 409 and "already resolved" in again.text


def test_the_console_in_chinese(client, staff):
    page = client.get("/staff/calls", headers=ZH)
    assert "搜索通话" in page.text and "Search calls" not in page.text
    refused = client.get("/staff/calls", query_string={"phone": "abc"}, headers=ZH)
    assert refused.status_code == 422 and any("\u4e00" <= c <= "\u9fff" for c in field_error(refused.text,
                                                                                               "phone"))


def test_the_console_forms_need_their_csrf_token(client, staff, app):
    app.config["WTF_CSRF_ENABLED"] = True
    record = make_call_record(make_merchant(), from_number=SHOPPER)
    reason = {"side": "from", "reason": "Checking a complaint about this call."}
    refused = client.post(f"/staff/calls/{record.id}/reveal", data=reason)
    assert refused.status_code == 400 and not any(d in refused.text for d in SHOPPER_DIGITS)
    page = client.get(f"/staff/calls/{record.id}").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    shown = client.post(f"/staff/calls/{record.id}/reveal", data={**reason, "csrf_token": token})
    assert shown.status_code == 200 and "+86 137 0013 7000" in shown.text
    assert len(audits("reveal")) == 1
