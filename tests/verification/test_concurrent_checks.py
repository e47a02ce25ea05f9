"""Many wrong checks of one code at once, against the live app: the answers count down
`attempts_left` for the first five and say "too many wrong codes" to every later one;
none says the code expired (it did not)."""

import threading

import pytest
import requests

from registry.verification.models import VerificationAttempt
from tests.factories import make_merchant, make_number, make_token, make_user

NUMBER = "+8613800138000"
THREADS = 20


def hammer(url: str, body: dict, headers: dict | None = None) -> list[requests.Response]:
    """POST `body` to `url` from THREADS threads released together."""
    barrier = threading.Barrier(THREADS)
    answers: list[requests.Response] = []
    errors: list[str] = []

    def worker():
        barrier.wait()
        try:
            answers.append(requests.post(url, json=body, headers=headers, timeout=30))
        except Exception as exc:  # any failure fails the test below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return answers


def assert_counted_down_then_locked(answers, db):
    codes = sorted((a.status_code, a.json()["error"]["code"]) for a in answers)
    assert codes == [(400, "wrong_code")] * 5 + [(429, "too_many_checks")] * (THREADS - 5), codes
    lefts = sorted(a.json()["error"]["attempts_left"] for a in answers if a.status_code == 400)
    assert lefts == [0, 1, 2, 3, 4]
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)
    db.session.expire_all()
    outcomes = [a.outcome for a in db.session.query(VerificationAttempt).filter_by(action="check")]
    assert outcomes.count("wrong_code") == 5 and "expired" not in outcomes


def wrong_for(simulator) -> str:
    return "000000" if simulator.state.last_code(NUMBER) != "000000" else "111111"


@pytest.mark.usefixtures("app")
def test_concurrent_wrong_shopper_checks(live_server, db, simulator):
    sent = requests.post(f"{live_server}/api/v1/shopper/verification", json={"phone": NUMBER},
                         timeout=30)
    assert sent.status_code == 202
    answers = hammer(f"{live_server}/api/v1/shopper/verification/check",
                     {"phone": NUMBER, "code": wrong_for(simulator)})
    assert_counted_down_then_locked(answers, db)


@pytest.mark.usefixtures("app")
def test_concurrent_wrong_merchant_checks(live_server, db, simulator):
    owner = make_user("merchant")
    number = make_number(make_merchant(owner), NUMBER)
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    sent = requests.post(f"{live_server}/api/v1/numbers/{number.id}/verification", json={},
                         headers=headers, timeout=30)
    assert sent.status_code == 202
    answers = hammer(f"{live_server}/api/v1/numbers/{number.id}/verification/check",
                     {"code": wrong_for(simulator)}, headers)
    assert_counted_down_then_locked(answers, db)
