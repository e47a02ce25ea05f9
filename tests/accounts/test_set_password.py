"""The set-password link of an invited owner (made by the merchant import): it signs the owner in
once, expires, and refuses a bad token; the invited account has no password until then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.accounts import invitations
from registry.accounts.operations import authenticate
from registry.core.errors import AppError
from registry.core.extensions import db as database

NEW = "a brand new password"


@pytest.fixture
def invited(db):
    user = invitations.invite_user("owner@example.com")
    database.session.commit()
    return user


def link(app, user) -> str:
    with app.test_request_context():
        return invitations.set_password_url(invitations.set_password_token(user, app.config["SECRET_KEY"]))


def test_an_invited_account_cannot_sign_in_until_its_owner_sets_a_password(app, client, invited):
    with pytest.raises(AppError):
        authenticate("owner@example.com", "")
    database.session.rollback()  # the failed sign-in's count, kept by the refused request only
    url = link(app, invited)
    assert url.startswith(app.config["PUBLIC_BASE_URL"]) and "/set-password/" in url
    path = url[len(app.config["PUBLIC_BASE_URL"].rstrip("/")):]
    page = client.get(path)
    assert page.status_code == 200 and "owner@example.com" in page.text
    answer = client.post(path, data={"password": NEW, "confirm": NEW})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/merchant/")
    database.session.expire_all()
    assert invitations.has_password(database.session.get(type(invited), invited.id))
    client.post("/logout")
    assert client.post("/login", data={"email": "owner@example.com", "password": NEW}).status_code == 302
    # The link works once.
    assert client.get(path).status_code == 422


def test_a_short_password_is_refused_on_the_page(app, client, invited):
    path = link(app, invited).split("5000", 1)[-1]
    answer = client.post(path, data={"password": "short", "confirm": "short"})
    assert answer.status_code == 422 and "at least 10 characters" in answer.text
    assert not invitations.has_password(invited)


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "WzEsImFiYyJd.abc.def"])
def test_a_bad_token_is_refused(client, db, token):
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 422 and "not valid" in response.text


def test_an_expired_link_is_refused(app, client, invited, monkeypatch):
    path = link(app, invited).split("5000", 1)[-1]
    monkeypatch.setattr(invitations, "LINK_MAX_AGE", timedelta(seconds=-1))
    response = client.get(path)
    assert response.status_code == 422 and "expired" in response.text
