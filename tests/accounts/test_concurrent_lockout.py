"""Many wrong passwords for one account at once, against the live app: only the first
`LOGIN_MAX_FAILURES` have their password checked (401); every later one is locked (429),
however many arrive together."""

import pytest
import requests

from tests.accounts.test_lockout import WRONG
from tests.factories import make_user
from tests.verification.test_concurrent_checks import THREADS, hammer


@pytest.fixture
def app_overrides():
    return {"LOGIN_MAX_FAILURES": 3, "LOGIN_LOCKOUT_SECONDS": 60, "LOGIN_LOCKOUT_MAX_SECONDS": 200}


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("known", [True, False], ids=["account", "no-account"])
def test_concurrent_wrong_passwords_check_at_most_the_limit(live_server, db, known):
    email = make_user(email="owner@example.com").email if known else "nobody@example.com"
    db.session.commit()
    answers = hammer(f"{live_server}/api/v1/auth/token", {"email": email, "password": WRONG})
    codes = sorted((a.status_code, a.json()["error"]["code"]) for a in answers)
    assert codes == [(401, "invalid_credentials")] * 3 + [(429, "login_locked")] * (THREADS - 3), codes
    assert requests.post(f"{live_server}/api/v1/auth/token", json={"email": email, "password": WRONG},
                         timeout=30).status_code == 429
