"""Per-account sign-in lockout: back-off whatever the address, silent about which accounts exist."""

from datetime import timedelta

import pytest

from registry.accounts import lockout
from registry.accounts.models import LoginThrottle
from registry.core.timeutil import utcnow
from tests.factories import PASSWORD, make_user

WRONG = "not the password"


@pytest.fixture
def app_overrides():
    return {"LOGIN_MAX_FAILURES": 3, "LOGIN_LOCKOUT_SECONDS": 60, "LOGIN_LOCKOUT_MAX_SECONDS": 200}


def token(client, email, password, address="10.0.0.1"):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def page_login(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def throttle(db, email):
    db.session.expire_all()
    return db.session.query(LoginThrottle).filter_by(email_hash=lockout.email_key(email)).one_or_none()


def test_wrong_passwords_from_many_addresses_lock_the_account(client, db):
    user = make_user(email="owner@example.com")
    for n in range(3):
        assert token(client, user.email, WRONG, address=f"10.0.0.{n}").status_code == 401
    locked = token(client, user.email, PASSWORD, address="10.9.9.9")  # right password, new address
    assert locked.status_code == 429
    assert locked.json["error"]["code"] == "login_locked"
    assert locked.headers["Retry-After"] == "60"
    assert locked.json["error"]["retry_after"] == 60
    # The HTML login is locked alike, and says so in the visitor's language.
    page = client.post("/login", data={"email": user.email, "password": PASSWORD},
                       headers={"Accept-Language": "zh"})
    assert page.status_code == 429 and "登录失败次数过多" in page.text


def test_an_unknown_address_gets_the_same_answers(client, db):
    make_user(email="owner@example.com")
    known = [token(client, "owner@example.com", WRONG) for _ in range(4)]
    unknown = [token(client, "nobody@example.com", WRONG) for _ in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 401, 429]
    for a, b in zip(known, unknown, strict=True):
        assert a.json == b.json and a.headers.get("Retry-After") == b.headers.get("Retry-After")
    # Nothing about the address is kept in clear.
    assert "nobody" not in str([(t.email_hash,) for t in db.session.query(LoginThrottle)])


def test_the_wait_doubles_after_each_lock_and_is_capped(client, db):
    user = make_user(email="owner@example.com")
    key = lockout.email_key(user.email)
    for _ in range(3):
        token(client, user.email, WRONG)
    waits = []
    for _ in range(3):
        row = throttle(db, user.email)
        waits.append(round((row.locked_until - row.last_failure_at).total_seconds()))
        # The lock ran out; one more wrong password locks again, for longer.
        row.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert token(client, user.email, WRONG).status_code == 401
    row = throttle(db, user.email)
    waits.append(round((row.locked_until - row.last_failure_at).total_seconds()))
    assert waits == [60, 120, 200, 200]
    assert lockout.email_key(user.email) == key


def test_a_successful_login_resets_the_count(client, db):
    user = make_user(email="owner@example.com")
    for _ in range(2):
        assert page_login(client, user.email, WRONG).status_code == 401
    assert throttle(db, user.email).failures == 2
    assert page_login(client, user.email, PASSWORD).status_code == 302
    assert throttle(db, user.email) is None
    client.post("/logout")
    for _ in range(2):
        assert page_login(client, user.email, WRONG).status_code == 401
    assert page_login(client, user.email, PASSWORD).status_code == 302  # not locked: reset


def test_old_failures_are_forgotten(client, db):
    user = make_user(email="owner@example.com")
    for _ in range(2):
        token(client, user.email, WRONG)
    row = throttle(db, user.email)
    row.last_failure_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert token(client, user.email, WRONG).status_code == 401
    assert throttle(db, user.email).failures == 1


def test_lockout_can_be_switched_off(client, app, db):
    app.config["LOGIN_MAX_FAILURES"] = 0
    user = make_user(email="owner@example.com")
    for _ in range(5):
        assert token(client, user.email, WRONG).status_code == 401
    assert token(client, user.email, PASSWORD).status_code == 201


def test_stale_unlocked_rows_are_deleted_and_locked_ones_kept(client, db):
    for email in ("stale@example.com", "recent@example.com", "locked@example.com"):
        for _ in range(3 if email.startswith("locked") else 1):
            token(client, email, WRONG)
    stale, locked = throttle(db, "stale@example.com"), throttle(db, "locked@example.com")
    stale.last_failure_at = locked.last_failure_at = utcnow() - timedelta(days=2)
    locked.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()

    assert lockout.forget_stale() == 1
    db.session.commit()
    assert throttle(db, "stale@example.com") is None
    assert throttle(db, "recent@example.com").failures == 1
    assert throttle(db, "locked@example.com") is not None
