"""The parties' call-log pages: a merchant's call history with its complaints, and the complaint
forms of a merchant (about one of its calls) and of a shopper (from the callback status page)."""

import html
import re

import pytest

from registry.accounts.models import User
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.complaints.models import Complaint
from registry.core.extensions import db as database
from tests.factories import (
    PASSWORD,
    make_call_record,
    make_callable_merchant,
    make_merchant,
    make_shopper,
    make_user,
)
from tests.pages import field_error

SHOPPER, MERCHANT, OTHER = "+8613700137000", "+8613800138000", "+8613600136000"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


def sign_in_owner(client, store) -> None:
    owner = database.session.get(User, store.owner_id)
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302


def sign_in_shopper(client, shopper) -> None:
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id


def complaints() -> list[Complaint]:
    database.session.expire_all()
    return database.session.query(Complaint).order_by(Complaint.id).all()


@pytest.fixture
def stores():
    return make_merchant(name="Mine"), make_merchant(name="Theirs")


# -- the merchant's call history ---------------------------------------------------------


def test_history_lists_only_the_stores_own_calls(client, stores):
    mine, theirs = stores
    own = [make_call_record(mine, from_number=SHOPPER, to_number=MERCHANT) for _ in range(2)]
    make_call_record(theirs, from_number=OTHER)
    sign_in_owner(client, mine)
    page = client.get("/merchant/calls")
    assert page.status_code == 200
    assert [int(i) for i in re.findall(r'data-record-id="(\d+)"', page.text)] == [r.id for r in own[::-1]]
    assert "+86 137****7000" in page.text and "13700137000" not in page.text
    assert "136****6000" not in page.text
    assert f'href="/merchant/calls/{own[0].id}/complaint"' in page.text


def test_history_is_paged(client, stores):
    mine, _ = stores
    made = [make_call_record(mine).id for _ in range(27)]
    sign_in_owner(client, mine)
    first = client.get("/merchant/calls").text
    link = html.unescape(re.search(r'href="(/merchant/calls\?cursor=[^"]+)"', first).group(1))
    second = client.get(link).text
    assert [int(i) for i in re.findall(r'data-record-id="(\d+)"', second)] == made[::-1][25:]
    assert client.get("/merchant/calls?cursor=abc").status_code == 200  # a bad cursor: the first page


def test_history_needs_a_merchant(client, stores):
    assert client.get("/merchant/calls").headers["Location"].startswith("/login")
    staff = make_user("staff")
    client.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert client.get("/merchant/calls").status_code == 403
    client.post("/logout")
    owner = make_user("merchant")  # no store yet
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert client.get("/merchant/calls").headers["Location"] == "/merchant/store/new"


# -- a merchant's complaint --------------------------------------------------------------


def test_a_merchant_reports_one_of_its_calls(client, stores):
    mine, _ = stores
    record = make_call_record(mine, from_number=SHOPPER, to_number=MERCHANT)
    sign_in_owner(client, mine)
    form = client.get(f"/merchant/calls/{record.id}/complaint")
    assert form.status_code == 200 and 'name="category"' in form.text and "+86 137****7000" in form.text
    empty = client.post(f"/merchant/calls/{record.id}/complaint", data={"category": "rude", "text": " "})
    assert empty.status_code == 422 and field_error(empty.text, "text") == "Say what happened."
    no_category = client.post(f"/merchant/calls/{record.id}/complaint", data={"text": "Shouting."})
    assert no_category.status_code == 422 and field_error(no_category.text, "category")
    assert complaints() == []
    sent = client.post(f"/merchant/calls/{record.id}/complaint",
                       data={"category": "rude", "text": "The caller shouted and swore."})
    assert sent.status_code == 302 and sent.headers["Location"] == "/merchant/calls"
    [filed] = complaints()
    assert (filed.filed_by, filed.merchant_id, filed.call_record_id) == ("merchant", mine.id, record.id)
    history = client.get("/merchant/calls")
    assert "Thank you. Complaint staff will look into this call." in history.text
    assert "The caller shouted and swore." in history.text and "reported by you" in history.text


def test_another_stores_call_is_not_found(client, stores):
    mine, theirs = stores
    record = make_call_record(theirs)
    sign_in_owner(client, mine)
    assert client.get(f"/merchant/calls/{record.id}/complaint").status_code == 404
    response = client.post(f"/merchant/calls/{record.id}/complaint", data={"category": "rude", "text": "x"})
    assert response.status_code == 404 and complaints() == []
    assert client.get("/merchant/calls/999999/complaint").status_code == 404


def test_merchants_see_complaints_about_them(client, stores):
    mine, theirs = stores
    shopper = make_shopper(SHOPPER)
    for store, text in ((mine, "Called me at midnight."), (theirs, "Never called back.")):
        database.session.add(Complaint(filed_by="shopper", shopper_id=shopper.id, merchant_id=store.id,
                                       category="harassment", text=text))
    database.session.commit()
    sign_in_owner(client, mine)
    page = client.get("/merchant/calls")
    assert "Called me at midnight." in page.text and "Never called back." not in page.text
    assert "from a shopper" in page.text and "Harassment" in page.text
    assert "13700137000" not in page.text and "137****7000" not in page.text.split('id="complaints"')[1]


# -- a shopper's complaint -----------------------------------------------------------------


@pytest.fixture
def callback(app):
    store = make_callable_merchant(MERCHANT, name="Ming's Tea")
    shopper = make_shopper(SHOPPER)
    request = request_callback(shopper, store.id, "asap", None, None, CallbackPolicy.from_config(app.config))
    request.status = "completed"
    database.session.commit()
    return request, shopper


def test_a_shopper_reports_a_problem_from_the_status_page(client, callback):
    request, shopper = callback
    sign_in_shopper(client, shopper)
    status = client.get(f"/callbacks/{request.id}")
    assert f'href="/callbacks/{request.id}/complaint"' in status.text and "Report a problem" in status.text
    form = client.get(f"/callbacks/{request.id}/complaint")
    assert form.status_code == 200 and "Ming&#39;s Tea" in form.text
    assert len(re.findall(r'name="category" type="radio"', form.text)) == 5
    bad = client.post(f"/callbacks/{request.id}/complaint", data={"category": "annoying", "text": "x"})
    assert bad.status_code == 422 and field_error(bad.text, "category") == "Choose what went wrong."
    long = client.post(f"/callbacks/{request.id}/complaint", data={"category": "rude", "text": "x" * 2001})
    assert long.status_code == 422 and field_error(long.text, "text")
    assert complaints() == []
    sent = client.post(f"/callbacks/{request.id}/complaint",
                       data={"category": "harassment", "text": "They kept calling after the order."})
    assert sent.status_code == 302 and sent.headers["Location"] == f"/callbacks/{request.id}"
    [filed] = complaints()
    assert (filed.filed_by, filed.shopper_id, filed.callback_request_id, filed.category) == \
        ("shopper", shopper.id, request.id, "harassment")
    assert "Complaint staff will look into it" in client.get(sent.headers["Location"]).text


def test_the_complaint_form_in_chinese(client, callback):
    request, shopper = callback
    sign_in_shopper(client, shopper)
    page = client.get(f"/callbacks/{request.id}/complaint", headers=ZH)
    assert "骚扰" in page.text and "Harassment" not in page.text
    empty = client.post(f"/callbacks/{request.id}/complaint", data={"category": "rude", "text": ""},
                        headers=ZH)
    assert any("\u4e00" <= c <= "\u9fff" for c in field_error(empty.text, "text"))


def test_someone_elses_request_is_not_found(client, callback):
    request, _ = callback
    assert client.get(f"/callbacks/{request.id}/complaint").status_code == 404  # no shopper at all
    sign_in_shopper(client, make_shopper(OTHER))
    assert client.get(f"/callbacks/{request.id}/complaint").status_code == 404
    response = client.post(f"/callbacks/{request.id}/complaint", data={"category": "rude", "text": "Rude."})
    assert response.status_code == 404 and "No such callback request." in response.text
    assert client.get("/callbacks/999999/complaint").status_code == 404
    assert complaints() == []


def test_the_complaint_form_needs_its_csrf_token(client, callback, app):
    request, shopper = callback
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in_shopper(client, shopper)
    report = {"category": "rude", "text": "Rude on the phone."}
    assert client.post(f"/callbacks/{request.id}/complaint", data=report).status_code == 400
    assert complaints() == []
    page = client.get(f"/callbacks/{request.id}/complaint").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    sent = client.post(f"/callbacks/{request.id}/complaint", data={**report, "csrf_token": token})
    assert sent.status_code == 302 and len(complaints()) == 1
