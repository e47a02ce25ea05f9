"""Control characters in text input: refused with a 422 naming the field, nothing stored.

A NUL byte used to be stored on SQLite (and later broke the TwiML the
merchant hears) and to give a 500 on PostgreSQL; each test here sends one
through the HTML form and the JSON API of a text field that reaches the
database.
"""


import pytest

from registry.accounts.models import User
from registry.audit.models import StaffAudit
from registry.callbacks.models import CallbackRequest
from registry.complaints.models import Complaint
from registry.core.extensions import db as database
from registry.merchants.models import Merchant, MerchantNumber
from tests.factories import (
    PASSWORD,
    bearer,
    make_call_record,
    make_callable_merchant,
    make_merchant,
    make_shopper,
    make_shopper_token,
    make_token,
    make_user,
)
from tests.pages import field_error, text_of

NUL = "\x00"
ZH = {"Accept-Language": "zh"}


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


def sign_in(client, user) -> None:
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def count(model) -> int:
    database.session.expire_all()
    return database.session.query(model).count()


def refused(response, field: str, reason: str = "text.control_characters") -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    error = response.json["error"]
    assert (error["code"], error["reason"], error["field"]) == ("text", reason, field)
    return error


# -- the store name -------------------------------------------------------------------


def test_store_name_form_refuses_nul(client):
    owner = make_user("merchant")
    sign_in(client, owner)
    page = client.post("/merchant/store/new", data={"name": f"Tea{NUL}House", "timezone": "Asia/Shanghai"})
    assert page.status_code == 422
    assert field_error(page.text, "name") == \
        "'Store name' must not contain control characters; remove U+0000."
    assert count(Merchant) == 0


def test_store_name_json_refuses_nul_and_escape(client):
    token = bearer(make_token(make_user("merchant")))
    response = client.post("/api/v1/merchants", json={"name": f"Tea{NUL}\x1b[31m"}, headers=token)
    error = refused(response, "name")
    assert error["chars"] == "U+0000, U+001B"
    assert error["message"] == "'name' must not contain control characters; remove U+0000, U+001B."
    assert count(Merchant) == 0


def test_the_refusal_is_in_chinese_too(client):
    token = bearer(make_token(make_user("merchant")))
    response = client.post("/api/v1/merchants", json={"name": f"Tea{NUL}"}, headers={**token, **ZH})
    assert refused(response, "name")["message"] == "“name”不能包含控制字符，请删除 U+0000。"


@pytest.mark.parametrize("name", ["Tea\tHouse", "Tea\nHouse", "Tea\u2028House", "Tea\x7fHouse"])
def test_a_single_line_field_refuses_tab_newline_and_separators(client, name):
    token = bearer(make_token(make_user("merchant")))
    refused(client.post("/api/v1/merchants", json={"name": name}, headers=token), "name")
    assert count(Merchant) == 0


def test_a_lone_surrogate_is_not_text(client):
    token = bearer(make_token(make_user("merchant")))
    body = b'{"name": "Tea \\ud800 House"}'
    response = client.post("/api/v1/merchants", data=body, content_type="application/json", headers=token)
    assert refused(response, "name", "text.not_unicode")["chars"] == "U+D800"


def test_nested_fields_are_named_by_their_path(client):
    token = bearer(make_token(make_user("merchant")))
    hours = {"mon": [["09:00", f"18:00{NUL}"]]}
    response = client.post("/api/v1/merchants", json={"name": "Tea", "business_hours": hours}, headers=token)
    refused(response, "business_hours.mon.0.1")
    assert count(Merchant) == 0


def test_an_ordinary_name_is_still_taken(client):
    token = bearer(make_token(make_user("merchant")))
    response = client.post("/api/v1/merchants", json={"name": "茶馆 Tea House"}, headers=token)
    assert response.status_code == 201


# -- a number's label -----------------------------------------------------------------


def test_number_label_refuses_nul(client):
    store = make_merchant()
    owner = database.session.get(User, store.owner_id)
    token = bearer(make_token(owner))
    response = client.post(f"/api/v1/merchants/{store.id}/numbers",
                           json={"number": "+8613800138000", "label": f"Shop{NUL}"}, headers=token)
    refused(response, "label")
    sign_in(client, owner)
    page = client.post("/merchant/numbers/new",
                       data={"number": "+8613800138000", "region": "CN", "label": f"Shop{NUL}"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "label")
    assert count(MerchantNumber) == 0


# -- a callback's order number and note -----------------------------------------------


def test_callback_order_ref_and_note_refuse_nul(client):
    store = make_callable_merchant()
    shopper = make_shopper()
    token = bearer(make_shopper_token(shopper))
    url = f"/api/v1/merchants/{store.id}/callbacks"
    refused(client.post(url, json={"when": "asap", "order_ref": f"A{NUL}1"}, headers=token), "order_ref")
    refused(client.post(url, json={"when": "asap", "note": f"hi{NUL}"}, headers=token), "note")
    refused(client.post(url, json={"when": {"start": f"now{NUL}"}}, headers=token), "when.start")
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id
    page = client.post(f"/stores/{store.id}/callback", data={"when": "asap", "order_ref": f"A{NUL}1"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "order_ref")
    page = client.post(f"/stores/{store.id}/callback", data={"when": "asap", "note": f"hi{NUL}"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "note")
    assert count(CallbackRequest) == 0


def test_a_note_keeps_its_lines_and_tabs(client):
    store = make_callable_merchant()
    shopper = make_shopper()
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id
    page = client.post(f"/stores/{store.id}/callback",
                       data={"when": "asap", "note": "line one\r\n\tline two"})
    assert page.status_code == 302
    [request] = database.session.query(CallbackRequest).all()
    assert request.note == "line one\n\tline two"


# -- complaints -------------------------------------------------------------------------


def test_complaint_text_refuses_nul(client):
    store = make_merchant()
    owner = database.session.get(User, store.owner_id)
    record = make_call_record(store)
    token = bearer(make_token(owner))
    response = client.post("/api/v1/complaints", json={"call_record_id": record.id, "category": "rude",
                                                        "text": f"He shouted{NUL}"}, headers=token)
    refused(response, "text")
    sign_in(client, owner)
    page = client.post(f"/merchant/calls/{record.id}/complaint",
                       data={"category": "rude", "text": f"He shouted{NUL}"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "text")
    assert count(Complaint) == 0


def test_resolution_refuses_nul(client):
    store = make_merchant()
    record = make_call_record(store)
    owner = database.session.get(User, store.owner_id)
    client.post("/api/v1/complaints", json={"call_record_id": record.id, "category": "rude",
                                            "text": "He shouted."}, headers=bearer(make_token(owner)))
    [complaint] = database.session.query(Complaint).all()
    staff = make_user("staff")
    response = client.post(f"/api/v1/complaints/{complaint.id}/resolve",
                           json={"action": "none", "resolution": f"Checked the call{NUL}"},
                           headers=bearer(make_token(staff)))
    refused(response, "resolution")
    sign_in(client, staff)
    page = client.post(f"/staff/complaints/{complaint.id}/resolve",
                       data={"action": "none", "resolution": f"Checked the call{NUL}"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "resolution")
    database.session.expire_all()
    assert database.session.get(Complaint, complaint.id).status == "open"


# -- a reveal's reason ------------------------------------------------------------------


def test_reveal_reason_refuses_nul(client):
    record = make_call_record(make_merchant())
    staff = make_user("staff")
    response = client.post(f"/api/v1/call-records/{record.id}/reveal",
                           json={"side": "from", "reason": f"complaint 12{NUL} harassment"},
                           headers=bearer(make_token(staff)))
    refused(response, "reason")
    sign_in(client, staff)
    page = client.post(f"/staff/calls/{record.id}/reveal",
                       data={"side": "from", "reason": f"complaint 12{NUL} harassment"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "reason")
    assert database.session.query(StaffAudit).filter_by(action="reveal").count() == 0


# -- query strings ----------------------------------------------------------------------


def test_search_filters_refuse_nul(client):
    staff = make_user("staff")
    response = client.get("/api/v1/call-records", query_string={"order_ref": f"A{NUL}"},
                          headers=bearer(make_token(staff)))
    refused(response, "order_ref")
    page = client.get("/stores", query_string={"q": f"Tea{NUL}"})
    assert page.status_code == 422 and "'q' must not contain control characters" in text_of(page.text)


def test_account_fields_refuse_nul(client):
    response = client.post("/api/v1/accounts", json={"email": f"a{NUL}@example.com", "password": "x" * 12})
    refused(response, "email")
    page = client.post("/signup", data={"email": "a@example.com", "password": f"{'x' * 12}{NUL}",
                                        "confirm": f"{'x' * 12}{NUL}"})
    assert page.status_code == 422 and "control characters" in field_error(page.text, "password")
    assert count(User) == 0


def test_a_body_nested_too_deep_is_malformed_not_a_500(client):
    body = "[" * 5_000 + "]" * 5_000
    response = client.post("/api/v1/accounts", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"


# -- found by the property test (tests/test_fuzz.py) ------------------------------------


def test_a_number_past_64_bits_is_refused_not_a_500(client):
    shopper = make_shopper()
    response = client.post("/api/v1/complaints", json={"call_record_id": 2**64, "category": "rude",
                                                        "text": "He shouted."},
                           headers=bearer(make_shopper_token(shopper)))
    assert response.status_code == 422
    assert (response.json["error"]["reason"], response.json["error"]["field"]) == \
        ("invalid.number_range", "call_record_id")


@pytest.mark.parametrize("value", ["²", "9" * 30, "9" * 5000])
def test_whole_number_filters_take_ascii_digits_only(client, value):
    staff = make_user("staff")
    response = client.get("/api/v1/call-records", query_string={"merchant_id": value},
                          headers=bearer(make_token(staff)))
    assert response.status_code == 422 and response.json["error"]["field"] == "merchant_id"
    sign_in(client, staff)
    assert client.get("/staff/audit", query_string={"before": value}).status_code == 200
    assert client.get("/staff/complaints", query_string={"before": value}).status_code == 200
