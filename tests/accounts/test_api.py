"""Accounts through the JSON API: sign-up, tokens, refusals."""

import pytest

from registry.accounts.models import ApiToken, User
from tests.factories import PASSWORD, bearer, make_user


def count(db, model):
    return db.session.query(model).count()


def test_sign_up_then_get_a_token_that_authenticates(client, db):
    created = client.post("/api/v1/accounts", json={"email": " Ann@Example.com ", "password": PASSWORD})
    assert created.status_code == 201
    assert created.json["email"] == "ann@example.com" and created.json["role"] == "merchant"

    issued = client.post("/api/v1/auth/token", json={"email": "ann@example.com", "password": PASSWORD})
    assert issued.status_code == 201
    token = issued.json["token"]
    assert db.session.query(ApiToken).one().token_hash != token  # only a hash is kept

    store = client.post("/api/v1/merchants", json={"name": "Ann's"}, headers=bearer(token))
    assert store.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, 422, "email"),
        ({"email": "a@example.com", "password": "short"}, 422, "password"),
        ({"email": "a@example.com", "password": "x" * 10_000}, 422, "password"),
        ({"email": None, "password": PASSWORD}, 422, "email"),
        ({"email": ["a@example.com"], "password": PASSWORD}, 422, "email"),
        ({"email": 42, "password": PASSWORD}, 422, "email"),
        ({"password": PASSWORD}, 422, "email"),
    ],
)
def test_bad_sign_up_names_the_field_and_stores_nothing(client, db, body, status, field):
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == status
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"]
    assert count(db, User) == 0


def test_body_that_is_not_json_is_a_400(client, db):
    bad = client.post("/api/v1/accounts", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "malformed_json"
    form = client.post("/api/v1/accounts", data={"email": "a@example.com"})
    assert form.status_code == 400 and form.json["error"]["code"] == "not_json"
    listed = client.post("/api/v1/accounts", json=["a", "b"])
    assert listed.status_code == 400
    assert count(db, User) == 0


def test_duplicate_email_is_a_conflict(client, db):
    make_user(email="dup@example.com")
    response = client.post("/api/v1/accounts", json={"email": "DUP@example.com", "password": PASSWORD})
    assert response.status_code == 409 and response.json["error"]["field"] == "email"
    assert count(db, User) == 1


def test_wrong_password_and_bad_tokens_are_401(client):
    make_user(email="b@example.com")
    wrong = client.post("/api/v1/auth/token", json={"email": "b@example.com", "password": "nope" * 3})
    assert wrong.status_code == 401 and "token" not in wrong.json
    for header in ("Bearer not-a-token", "Bearer ", "Basic abc", "garbage"):
        response = client.post("/api/v1/merchants", json={"name": "x"},
                               headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["error"]["code"] == "unauthorized"


def test_staff_token_cannot_create_a_store(client):
    from tests.factories import make_token

    token = make_token(make_user("staff"))
    response = client.post("/api/v1/merchants", json={"name": "x"}, headers=bearer(token))
    assert response.status_code == 403
