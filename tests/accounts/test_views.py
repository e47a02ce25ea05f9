"""Sign-up, login and logout pages through the test client, on every backend."""

import re

import pytest

from registry.accounts.models import User
from registry.core.extensions import limiter
from tests.factories import PASSWORD, make_user
from tests.pages import field_error


def users(db) -> int:
    return db.session.query(User).count()


def signup(client, email="owner@example.com", password=PASSWORD, confirm=None):
    return client.post("/signup", data={
        "email": email, "password": password,
        "confirm": password if confirm is None else confirm,
    })


def login(client, email, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_signup_signs_in_and_leads_to_store_setup(client, db):
    page = client.get("/signup")
    assert page.status_code == 200 and 'name="email"' in page.text
    response = signup(client, email="  Owner@Example.com ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/store/new"
    user = db.session.query(User).one()
    assert user.email == "owner@example.com" and user.role == "merchant"
    assert client.get("/merchant/").headers["Location"] == "/merchant/store/new"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": "x" * 10_000 + "@example.com"}, "email", "Enter a valid email address."),
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"password": "p" * 10_000, "confirm": "p" * 10_000}, "password", "too long"),
        ({"confirm": "something else"}, "confirm", "The two passwords are not the same."),
    ],
)
def test_signup_refusals_name_the_field_and_store_nothing(client, db, data, field, message):
    form = {"email": "owner@example.com", "password": PASSWORD, "confirm": PASSWORD, **data}
    response = client.post("/signup", data=form)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert users(db) == 0


def test_signup_with_a_taken_email_is_refused(client, db):
    make_user(email="owner@example.com")
    response = signup(client)
    assert response.status_code == 409
    assert "An account with that email already exists." in field_error(response.text, "email")
    assert users(db) == 1


def test_login_honours_a_local_next_and_logout_signs_out(client):
    make_user(email="owner@example.com")
    form = client.get("/login?next=/merchant/numbers/new")
    assert 'value="/merchant/numbers/new"' in form.text
    response = login(client, "owner@example.com", next="/merchant/numbers/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/numbers/new"
    assert client.get("/merchant/").headers["Location"] == "/merchant/store/new"
    assert client.get("/logout").status_code == 405
    out = client.post("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/"
    assert client.get("/merchant/").headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_a_next_leading_off_site(client, target):
    make_user(email="owner@example.com")
    response = login(client, "owner@example.com", next=target)
    assert response.headers["Location"] == "/merchant/"


def test_wrong_password_is_refused_with_a_message(client):
    make_user(email="owner@example.com")
    response = login(client, "owner@example.com", password="wrong password!")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert client.get("/merchant/").status_code == 302


def test_anonymous_merchant_page_redirects_to_login_and_back(client):
    make_user(email="owner@example.com")
    response = client.get("/merchant/numbers/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/merchant/numbers/new")
    back = login(client, "owner@example.com", next="/merchant/numbers/new?")
    assert back.headers["Location"].rstrip("?") == "/merchant/numbers/new"


def test_staff_cannot_use_merchant_pages(client):
    make_user("staff", email="staff@example.com")
    login(client, "staff@example.com")
    response = client.get("/merchant/")
    assert response.status_code == 403
    assert "This needs a merchant account." in response.text


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_is_rejected(self, client, db):
        response = signup(client)
        assert response.status_code == 400
        assert "Reload the page and try again." in response.text
        assert users(db) == 0

    def test_a_post_with_the_token_from_the_form_works(self, client, db):
        page = client.get("/signup").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/signup", data={
            "email": "owner@example.com", "password": PASSWORD, "confirm": PASSWORD,
            "csrf_token": token,
        })
        assert response.status_code == 302
        assert users(db) == 1

    def test_logout_needs_the_token(self, client):
        make_user(email="owner@example.com")
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        login(client, "owner@example.com", csrf_token=token)
        assert client.post("/logout").status_code == 400
        assert client.get("/merchant/").headers["Location"] == "/merchant/store/new"


class TestSignInLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "3 per minute"}

    @pytest.fixture(autouse=True)
    def fresh_limits(self, app):
        limiter.reset()
        yield
        limiter.reset()
        limiter.enabled = False

    def test_password_guessing_meets_a_429_page(self, client):
        make_user(email="owner@example.com")
        statuses = [login(client, "owner@example.com", f"guess number {i}").status_code
                    for i in range(3)]
        assert statuses == [401] * 3
        limited = login(client, "owner@example.com")
        assert limited.status_code == 429
        assert "Too many attempts" in limited.text and "<html" in limited.text
        assert int(limited.headers["Retry-After"]) > 0
        assert client.get("/login").status_code == 200
