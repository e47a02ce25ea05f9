"""A shopper proves their number by code and gets a token for it."""

from registry.shoppers.models import Shopper
from tests.factories import bearer, make_callable_merchant

PHONE = "+8613700137000"


def test_prove_number_then_use_the_token(client, db, simulator):
    sent = client.post("/api/v1/shopper/verification", json={"phone": "137 0013 7000"})
    assert sent.status_code == 202 and sent.json["channel"] == "sms"
    code = simulator.state.last_code(PHONE)
    checked = client.post("/api/v1/shopper/verification/check", json={"phone": PHONE, "code": code})
    assert checked.status_code == 200
    token = checked.json["token"]
    assert checked.json["shopper"]["phone"] == "+86 137****7000"
    store = make_callable_merchant()
    slots = client.get(f"/api/v1/merchants/{store.id}/callback-slots", headers=bearer(token))
    assert slots.status_code == 200
    assert db.session.query(Shopper).one().phone == PHONE


def test_wrong_code_gives_no_token_and_no_shopper(client, db, simulator):
    client.post("/api/v1/shopper/verification", json={"phone": PHONE})
    wrong = "000000" if simulator.state.last_code(PHONE) != "000000" else "111111"
    response = client.post("/api/v1/shopper/verification/check", json={"phone": PHONE, "code": wrong})
    assert response.status_code == 400 and response.json["error"]["attempts_left"] == 4
    assert db.session.query(Shopper).count() == 0


def test_bad_phone_names_the_field(client, db):
    response = client.post("/api/v1/shopper/verification", json={"phone": "1-800-FLOWERS"})
    assert response.status_code == 422 and response.json["error"]["field"] == "phone"
