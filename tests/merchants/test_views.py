"""Merchant onboarding pages through the test client, with the real gateway and simulator."""

import re

import pytest

from registry.merchants.models import Merchant, MerchantNumber
from registry.verification.models import VerificationAttempt
from tests.factories import PASSWORD, make_merchant, make_number, make_user
from tests.pages import field_error

E164 = "+8613800138000"
REAL_DIGITS = ("13800138000", "138 0013 8000", "138-0013-8000")


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def merchant_client(client, owner):
    """A client signed in as `owner` through the login form."""
    response = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def store(owner):
    return make_merchant(owner)


def add_number(client, number, region="CN", label=""):
    return client.post("/merchant/numbers/new",
                       data={"number": number, "region": region, "label": label})


def count(db, model, **where) -> int:
    return db.session.query(model).filter_by(**where).count()


def store_form(**fields):
    data = {"name": "Ming's Tea", "timezone": "Asia/Shanghai",
            "mon_1_start": "09:00", "mon_1_end": "12:00",
            "mon_2_start": "13:30", "mon_2_end": "00:00"}
    data.update(fields)
    return data


def test_store_is_created_from_the_form(merchant_client, db, owner):
    page = merchant_client.get("/merchant/store/new")
    assert page.status_code == 200 and '<option selected value="Asia/Shanghai">' in page.text
    response = merchant_client.post("/merchant/store/new", data=store_form(fri_1_start="10:00",
                                                                           fri_1_end="16:00"))
    assert response.status_code == 302 and response.headers["Location"] == "/merchant/numbers/new"
    merchant = db.session.query(Merchant).one()
    assert merchant.owner_id == owner.id and merchant.name == "Ming's Tea"
    assert merchant.business_hours["mon"] == [["09:00", "12:00"], ["13:30", "24:00"]]
    assert merchant.business_hours["fri"] == [["10:00", "16:00"]]
    assert merchant.business_hours["tue"] == [] and merchant.business_hours["sun"] == []
    assert merchant_client.get("/merchant/store/new").headers["Location"] == "/merchant/store"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the store's name."),
        ({"name": "x" * 10_000}, "name", "at most 100 characters"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone"),
        ({"tue_1_start": "18:00", "tue_1_end": "09:00"}, "hours", "ends before it starts"),
        ({"tue_1_start": "09:00"}, "hours", "times are"),
        ({"wed_1_start": "9am", "wed_1_end": "5pm"}, "hours", "times are"),
        ({"mon_2_start": "11:00"}, "hours", "overlaps"),
    ],
)
def test_store_form_refusals_name_the_field(merchant_client, db, fields, field, message):
    response = merchant_client.post("/merchant/store/new", data=store_form(**fields))
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert count(db, Merchant) == 0


def test_store_profile_is_edited_and_bad_input_changes_nothing(merchant_client, db, store):
    page = merchant_client.get("/merchant/store")
    assert 'value="Tea House"' in page.text and 'name="mon_1_start"' in page.text
    bad = merchant_client.post("/merchant/store", data=store_form(name="New", thu_1_end="08:00",
                                                                  thu_1_start="09:00"))
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.get(Merchant, store.id).name == "Tea House"
    good = merchant_client.post("/merchant/store", data=store_form(name="New Name"))
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Merchant, store.id).name == "New Name"


def test_full_width_digits_are_accepted(merchant_client, db, store):
    response = add_number(merchant_client, "＋８６　１３８００１３８０００", label="Shop phone")
    assert response.status_code == 302
    number = db.session.query(MerchantNumber).one()
    assert number.e164 == E164 and number.status == "unverified" and number.label == "Shop phone"
    assert response.headers["Location"] == f"/merchant/numbers/{number.id}"
    dashboard = merchant_client.get("/merchant/")
    assert "+86 138 0013 8000" in dashboard.text and "Not verified" in dashboard.text


@pytest.mark.parametrize(
    ("number", "field", "message"),
    [
        ("+86138abc45678", "number", "may contain only digits"),
        ("1-800-FLOWERS", "number", "may contain only digits"),
        ("1" * 10_240, "number", "too long to be a phone number"),
        ("+1 900 555 0100", "number", "premium-rate"),
        ("+1 800 555 0100", "number", "toll-free"),
        ("+86 800 810 8888", "number", "toll-free"),
        ("", "number", "Enter a phone number."),
        ("   ", "number", "Enter a phone number."),
        ("+86 138", "number", "too short"),
    ],
)
def test_bad_numbers_are_refused_by_the_field(merchant_client, db, store, number, field, message):
    response = add_number(merchant_client, number)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert 'aria-invalid="true"' in response.text
    assert count(db, MerchantNumber) == 0


def test_bad_label_and_region_are_refused(merchant_client, db, store):
    long_label = add_number(merchant_client, E164, label="x" * 10_240)
    assert long_label.status_code == 422
    assert "at most 60 characters" in field_error(long_label.text, "label")
    bad_region = add_number(merchant_client, "138 0013 8000", region="China")
    assert bad_region.status_code == 422
    assert "two-letter country code" in field_error(bad_region.text, "region")
    assert count(db, MerchantNumber) == 0


def test_the_same_number_twice_is_refused(merchant_client, db, store):
    make_number(store, E164)
    response = add_number(merchant_client, "138 0013 8000")
    assert response.status_code == 409
    assert "already on your store" in field_error(response.text, "number")
    assert count(db, MerchantNumber) == 1


def test_number_is_verified_with_the_code_sent_by_sms(merchant_client, db, store, simulator):
    number = make_number(store, E164)
    page = merchant_client.get(f"/merchant/numbers/{number.id}")
    assert "by text message (SMS)" in page.text and "Send code" in page.text
    sent = merchant_client.post(f"/merchant/numbers/{number.id}/code")
    assert sent.status_code == 302
    code = simulator.state.last_code(E164)
    assert code and re.fullmatch(r"\d{6}", code)
    pending = merchant_client.get(sent.headers["Location"])
    assert "We sent a code by text message to +86 138 0013 8000." in pending.text
    assert 'name="code"' in pending.text
    assert re.search(r'id="send-code"[^>]*data-wait="(5\d|60)"[^>]*disabled', pending.text)
    checked = merchant_client.post(f"/merchant/numbers/{number.id}/check", data={"code": code})
    assert checked.status_code == 302 and checked.headers["Location"] == "/merchant/"
    db.session.expire_all()
    stored = db.session.get(MerchantNumber, number.id)
    assert stored.status == "verified" and stored.reverify_at is not None
    dashboard = merchant_client.get("/merchant/")
    assert "+86 138 0013 8000 is verified." in dashboard.text
    assert 'badge-verified">Verified' in dashboard.text


def test_a_landline_gets_a_voice_call(merchant_client, db, store):
    number = make_number(store, "010 6552 9988")
    page = merchant_client.get(f"/merchant/numbers/{number.id}")
    assert "This is a landline: we will call it" in page.text
    assert "Call me with a code" in page.text


def test_a_wrong_code_shows_attempts_left_and_is_counted(merchant_client, db, store, simulator):
    number = make_number(store, E164)
    merchant_client.post(f"/merchant/numbers/{number.id}/code")
    wrong = "111111" if simulator.state.last_code(E164) != "111111" else "222222"
    response = merchant_client.post(f"/merchant/numbers/{number.id}/check", data={"code": wrong})
    assert response.status_code == 400
    assert field_error(response.text, "code") == "That code is not right. 4 attempts left."
    assert count(db, VerificationAttempt, action="check", outcome="wrong_code") == 1
    db.session.expire_all()
    assert db.session.get(MerchantNumber, number.id).status == "pending"


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1" * 10_240])
def test_a_malformed_code_is_refused_without_a_check(merchant_client, db, store, code):
    number = make_number(store, E164, status="pending")
    response = merchant_client.post(f"/merchant/numbers/{number.id}/check", data={"code": code})
    assert response.status_code == 422
    assert "6 digits" in field_error(response.text, "code")
    assert count(db, VerificationAttempt, action="check") == 0


def test_resend_within_a_minute_is_refused_with_a_countdown(merchant_client, db, store):
    number = make_number(store, E164)
    assert merchant_client.post(f"/merchant/numbers/{number.id}/code").status_code == 302
    again = merchant_client.post(f"/merchant/numbers/{number.id}/code")
    assert again.status_code == 429
    wait = int(again.headers["Retry-After"])
    assert 0 < wait <= 60
    assert f"you can ask for another in {wait} seconds" in again.text
    assert re.search(rf'id="send-code"[^>]*data-wait="{wait}"[^>]*disabled', again.text)
    assert count(db, VerificationAttempt, action="send", outcome="sent") == 1
    assert count(db, VerificationAttempt, action="send", outcome="rate_limited") == 1


def test_another_merchants_number_is_not_found(merchant_client, db, store):
    other = make_number(make_merchant(name="Other Shop"), "+8613900139000")
    for method, url in [("get", f"/merchant/numbers/{other.id}"),
                        ("post", f"/merchant/numbers/{other.id}/code"),
                        ("post", f"/merchant/numbers/{other.id}/check"),
                        ("get", "/merchant/numbers/999999")]:
        response = getattr(merchant_client, method)(url, data={"code": "123456"})
        assert response.status_code == 404, url
        assert "139" not in response.text
    assert count(db, VerificationAttempt) == 0
    db.session.expire_all()
    assert db.session.get(MerchantNumber, other.id).status == "unverified"


def test_lapsed_and_suspended_numbers_say_what_to_do(merchant_client, store):
    lapsed = make_number(store, E164, status="lapsed")
    make_number(store, "+8613900139000", status="suspended")
    dashboard = merchant_client.get("/merchant/")
    assert "Verify again" in dashboard.text and "Suspended" in dashboard.text
    assert f'href="/merchant/numbers/{lapsed.id}"' in dashboard.text
    page = merchant_client.get(f"/merchant/numbers/{lapsed.id}")
    assert "has lapsed" in page.text and "Send code" in page.text


def test_public_page_shows_the_badge_and_never_the_number(client, db, store):
    make_number(store, E164, status="verified", label="Shop phone")
    make_number(store, "010 6552 9988", label="Landline")
    page = client.get(f"/stores/{store.id}")
    assert page.status_code == 200
    assert "Tea House" in page.text and "Verified" in page.text and "Not verified" not in page.text
    assert "Callbacks are available" in page.text
    for digits in (*REAL_DIGITS, "6552", "9988", "Shop phone", "Landline"):
        assert digits not in page.text
    assert client.get("/stores/999999").status_code == 404


def test_public_page_of_an_unverified_store(client, store):
    make_number(store, E164)
    page = client.get(f"/stores/{store.id}")
    assert "Not verified" in page.text and "Callbacks are not available" in page.text
    assert not any(digits in page.text for digits in REAL_DIGITS)
