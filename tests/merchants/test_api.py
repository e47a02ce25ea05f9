"""Stores and numbers through the JSON API, with the real gateway and simulator."""

import pytest

from registry.merchants.models import Merchant, MerchantNumber
from registry.verification.models import Verification, VerificationAttempt
from tests.factories import bearer, make_merchant, make_number, make_token, make_user

NUMBER = "+8613800138000"


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def headers(owner):
    return bearer(make_token(owner))


@pytest.fixture
def store(owner):
    return make_merchant(owner)


def add(client, headers, store, number="+86 138 0013 8000", **extra):
    return client.post(f"/api/v1/merchants/{store.id}/numbers", json={"number": number, **extra},
                       headers=headers)


def numbers_in_db(db):
    return db.session.query(MerchantNumber).count()


def test_create_store_with_hours_and_read_public_profile(client, headers, db):
    hours = {"mon": [["09:00", "12:00"], ["13:30", "24:00"]], "sat": [], "sun": []}
    created = client.post("/api/v1/merchants", json={
        "name": "  Ming's   Tea ", "timezone": "Asia/Shanghai", "business_hours": hours,
    }, headers=headers)
    assert created.status_code == 201
    body = created.json
    assert body["name"] == "Ming's Tea"
    assert body["business_hours"]["mon"] == [["09:00", "12:00"], ["13:30", "24:00"]]
    assert body["business_hours"]["tue"] == []
    public = client.get(f"/api/v1/merchants/{body['id']}")
    assert public.status_code == 200
    assert public.json["verified"] is False and public.json["callback_available"] is False
    again = client.post("/api/v1/merchants", json={"name": "Second"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": 7}, "name"),
        ({"name": "A", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "A", "timezone": ["Asia/Shanghai"]}, "timezone"),
        ({"name": "A", "business_hours": {"mon": [["18:00", "09:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["09:00", "25:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"funday": []}}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
         "business_hours"),
        ({"name": "A", "business_hours": "9 to 5"}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["9:00", "12:00"]]}}, "business_hours"),
    ],
)
def test_bad_store_input_is_422_naming_the_field(client, headers, db, body, field):
    response = client.post("/api/v1/merchants", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field
    assert db.session.query(Merchant).count() == 0


def test_unknown_store_is_404(client):
    assert client.get("/api/v1/merchants/999999").status_code == 404


def test_add_and_list_numbers(client, headers, store):
    added = add(client, headers, store, label="Front desk")
    assert added.status_code == 201
    assert added.json["status"] == "unverified"
    assert added.json["number"] == "+86 138 0013 8000"
    assert added.json["masked"] == "+86 138****8000"
    assert added.json["verification_channel"] == "sms"
    landline = add(client, headers, store, number="010 6552 9988")
    assert landline.json["verification_channel"] == "call"
    listed = client.get(f"/api/v1/merchants/{store.id}/numbers", headers=headers)
    assert [n["id"] for n in listed.json["items"]] == [added.json["id"], landline.json["id"]]
    assert listed.json["next"] is None


def test_numbers_are_encrypted_at_rest(client, headers, store, db):
    add(client, headers, store)
    raw = db.session.execute(db.text("select e164_encrypted, number_hash from merchant_numbers")).one()
    assert "13800138000" not in raw[0] and "13800138000" not in raw[1]


@pytest.mark.parametrize(
    ("number", "field", "code"),
    [
        ("+86138abc45678", "number", "invalid_characters"),
        ("1-800-FLOWERS", "number", "invalid_characters"),
        ("+1 900 555 0100", "number", "refused_number_type"),
        ("+1 800 555 0100", "number", "refused_number_type"),
        ("+33 8 99 12 34 56", "number", "refused_number_type"),
        ("123", "number", "impossible_number"),
        ("", "number", "required"),
        ("   ", "number", "required"),
        ("9" * 10_240, "number", "too_long"),
        (13800138000, "number", "invalid_type"),
        (["+8613800138000"], "number", "invalid_type"),
        (None, "number", "required"),
    ],
)
def test_bad_numbers_are_refused_and_nothing_is_stored(client, headers, store, db, number, field,
                                                       code):
    response = add(client, headers, store, number=number)
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == field
    assert response.json["error"]["code"] == code
    assert numbers_in_db(db) == 0


def test_full_width_digits_are_accepted(client, headers, store):
    response = add(client, headers, store, number="＋８６　１３８００１３８０００")
    assert response.status_code == 201 and response.json["number"] == "+86 138 0013 8000"


def test_same_number_twice_is_409_with_the_existing_one(client, headers, store):
    first = add(client, headers, store)
    second = add(client, headers, store, number="13800138000")
    assert second.status_code == 409 and second.json["error"]["id"] == first.json["id"]


def test_another_merchants_store_and_number_are_404(client, headers, db):
    other = make_merchant(name="Other")
    number = make_number(other)
    assert add(client, headers, other).status_code == 404
    assert client.get(f"/api/v1/merchants/{other.id}/numbers", headers=headers).status_code == 404
    sent = client.post(f"/api/v1/numbers/{number.id}/verification", json={}, headers=headers)
    assert sent.status_code == 404
    check = client.post(f"/api/v1/numbers/{number.id}/verification/check", json={"code": "123456"},
                        headers=headers)
    assert check.status_code == 404
    assert db.session.query(VerificationAttempt).count() == 0


def send(client, headers, number_id, **body):
    return client.post(f"/api/v1/numbers/{number_id}/verification", json=body, headers=headers)


def check(client, headers, number_id, code):
    return client.post(f"/api/v1/numbers/{number_id}/verification/check", json={"code": code},
                       headers=headers)


def test_verify_by_sms_end_to_end(client, headers, store, simulator):
    number_id = add(client, headers, store).json["id"]
    sent = send(client, headers, number_id)
    assert sent.status_code == 202
    assert sent.json == {"status": "pending", "channel": "sms", "resend_after_seconds": 60,
                         "expires_in_seconds": 600}
    code = simulator.state.last_code(NUMBER)
    assert code and len(code) == 6
    assert simulator.state.inbox(NUMBER)[-1].kind == "sms"
    verified = check(client, headers, number_id, code)
    assert verified.status_code == 200
    assert verified.json["status"] == "verified" and verified.json["reverify_at"]
    profile = client.get(f"/api/v1/merchants/{store.id}").json
    assert profile["verified"] is True and profile["callback_available"] is True
    assert "13800138000" not in str(profile) and "0013" not in str(profile)


def test_landline_gets_a_voice_call_and_cannot_take_sms(client, headers, store, simulator):
    number_id = add(client, headers, store, number="+86 10 6552 9988").json["id"]
    refused = send(client, headers, number_id, channel="sms")
    assert refused.status_code == 422 and refused.json["error"]["field"] == "channel"
    sent = send(client, headers, number_id)
    assert sent.status_code == 202 and sent.json["channel"] == "call"
    assert simulator.state.inbox("+861065529988")[-1].kind == "voice"


def test_wrong_code_is_400_with_attempts_left_and_sixth_guess_is_429(client, headers, store, db,
                                                                    simulator):
    number_id = add(client, headers, store).json["id"]
    send(client, headers, number_id)
    real = simulator.state.last_code(NUMBER)
    wrong = "000000" if real != "000000" else "111111"
    lefts = []
    for _ in range(5):
        response = check(client, headers, number_id, wrong)
        assert response.status_code == 400 and response.json["error"]["field"] == "code"
        lefts.append(response.json["error"]["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    sixth = check(client, headers, number_id, real)  # even the right code: this code is spent
    assert sixth.status_code == 429 and int(sixth.headers["Retry-After"]) >= 1
    assert sixth.json["error"]["code"] == "too_many_checks"
    assert db.session.get(MerchantNumber, number_id).status == "pending"
    outcomes = [a.outcome for a in db.session.query(VerificationAttempt).order_by("id")]
    assert outcomes == ["sent"] + ["wrong_code"] * 5 + ["rate_limited"]


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456, None, ["123456"], "1" * 5000])
def test_malformed_code_is_422_and_not_counted(client, headers, store, db, code):
    number_id = add(client, headers, store).json["id"]
    send(client, headers, number_id)
    response = check(client, headers, number_id, code)
    assert response.status_code == 422 and response.json["error"]["field"] == "code"
    assert db.session.query(VerificationAttempt).filter_by(action="check").count() == 0


def test_full_width_code_is_accepted(client, headers, store, simulator):
    number_id = add(client, headers, store).json["id"]
    send(client, headers, number_id)
    code = simulator.state.last_code(NUMBER)
    full_width = "".join(chr(ord("０") + int(d)) for d in code)
    assert check(client, headers, number_id, full_width).json["status"] == "verified"


def test_check_without_a_send_is_400(client, headers, store):
    number_id = add(client, headers, store).json["id"]
    response = check(client, headers, number_id, "123456")
    assert response.status_code == 400 and response.json["error"]["code"] == "no_code"


def test_resend_within_60_seconds_is_429_and_sends_nothing(client, headers, store, db, simulator):
    number_id = add(client, headers, store).json["id"]
    assert send(client, headers, number_id).status_code == 202
    again = send(client, headers, number_id)
    assert again.status_code == 429
    assert 55 <= int(again.headers["Retry-After"]) <= 60
    assert again.json["error"]["retry_after"] == int(again.headers["Retry-After"])
    assert len(simulator.state.inbox(NUMBER)) == 1


def test_expired_code_is_refused(client, headers, store, db, simulator):
    from datetime import timedelta

    number_id = add(client, headers, store).json["id"]
    send(client, headers, number_id)
    code = simulator.state.last_code(NUMBER)
    for row in [*db.session.query(VerificationAttempt), *db.session.query(Verification)]:
        row.created_at = row.created_at - timedelta(minutes=11)
    db.session.commit()
    response = check(client, headers, number_id, code)
    assert response.status_code == 400 and response.json["error"]["code"] == "code_expired"


def test_claiming_a_number_another_store_verified_lapses_the_first_claim(client, headers, store,
                                                                         db, simulator):
    first = make_merchant(name="First")
    first_number = make_number(first, NUMBER, status="verified")
    number_id = add(client, headers, store).json["id"]
    assert client.get(f"/api/v1/merchants/{first.id}").json["verified"] is True
    send(client, headers, number_id)
    assert check(client, headers, number_id, simulator.state.last_code(NUMBER)).status_code == 200
    db.session.expire_all()
    assert db.session.get(MerchantNumber, first_number.id).status == "lapsed"
    assert client.get(f"/api/v1/merchants/{first.id}").json["verified"] is False
    assert client.get(f"/api/v1/merchants/{store.id}").json["verified"] is True


def test_database_allows_one_verified_claim_per_number(db):
    import sqlalchemy.exc

    make_number(make_merchant(name="A"), NUMBER, status="verified")
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        make_number(make_merchant(name="B"), NUMBER, status="verified")
    db.session.rollback()
