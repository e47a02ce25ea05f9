"""The number page offers the code-entry form only while a code waits to be entered;
a locked, expired or missing code says what to do instead, with the wait a sending
limit imposes, in English and Chinese."""

import re
from datetime import timedelta

import pytest

from registry.core.timeutil import utcnow
from registry.merchants.models import MerchantNumber
from registry.verification.models import Verification, VerificationAttempt
from tests.factories import PASSWORD, make_merchant, make_number, make_user
from tests.merchants.test_views import E164, field_error

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CODE_INPUT = 'name="code"'


@pytest.fixture
def owner():
    return make_user("merchant")


@pytest.fixture
def merchant_client(client, owner):
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def store(owner):
    return make_merchant(owner)


def zh_words(client, number) -> str:
    return words(client.get(f"/merchant/numbers/{number.id}", headers=ZH).text)


def words(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def wrong_code(simulator) -> str:
    return "111111" if simulator.state.last_code(E164) != "111111" else "222222"


def test_a_locked_code_offers_a_new_code_not_the_code_form(merchant_client, db, store, simulator):
    number = make_number(store, E164)
    merchant_client.post(f"/merchant/numbers/{number.id}/code")
    wrong = wrong_code(simulator)
    for _ in range(4):
        merchant_client.post(f"/merchant/numbers/{number.id}/check", data={"code": wrong})
    still = merchant_client.get(f"/merchant/numbers/{number.id}")
    assert CODE_INPUT in still.text  # one try left: the form stays
    last = merchant_client.post(f"/merchant/numbers/{number.id}/check", data={"code": wrong})
    assert last.status_code == 400 and "0 attempts left" in field_error(last.text, "code")
    for page in (last.text, merchant_client.get(f"/merchant/numbers/{number.id}").text):
        assert CODE_INPUT not in page
        assert "entered wrongly too many times" in words(page) and "Ask for a new code" in words(page)
        # The resend limit still holds (a code was sent under a minute ago): the wait is shown.
        assert re.search(r'id="send-code"[^>]*data-wait="([1-9]\d?|60)"[^>]*disabled', page)
        assert "You can ask for a new code in" in words(page)
    assert "输错次数过多" in zh_words(merchant_client, number)
    db.session.expire_all()
    assert db.session.get(MerchantNumber, number.id).status == "pending"


def test_an_expired_code_offers_a_new_one_at_once(merchant_client, db, store):
    number = make_number(store, E164)
    merchant_client.post(f"/merchant/numbers/{number.id}/code")
    sent = db.session.query(VerificationAttempt).filter_by(action="send", outcome="sent").one()
    code = db.session.query(Verification).one()  # a code's life runs from its verification
    sent.created_at = code.created_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    with merchant_client.session_transaction() as session:
        session.pop("resend_at", None)
    page = merchant_client.get(f"/merchant/numbers/{number.id}").text
    assert CODE_INPUT not in page and "Your code has expired. Ask for a new code." in words(page)
    assert re.search(r'id="send-code"[^>]*data-wait="0"', page)
    assert not re.search(r'id="send-code"[^>]*disabled', page)
    assert "验证码已过期" in zh_words(merchant_client, number)


def test_a_pending_number_without_a_code_asks_for_one(merchant_client, db, store):
    number = make_number(store, E164, status="pending")
    page = merchant_client.get(f"/merchant/numbers/{number.id}").text
    assert CODE_INPUT not in page and "No code is waiting to be entered." in words(page)
    assert "Send a new code" in words(page)
    assert "没有待输入的验证码" in zh_words(merchant_client, number)


@pytest.mark.parametrize("app_overrides", [{"VERIFY_SENDS_PER_NUMBER_HOUR": 2}])
def test_an_hourly_limit_shows_its_wait_in_minutes(merchant_client, db, store, simulator):
    number = make_number(store, E164)
    merchant_client.post(f"/merchant/numbers/{number.id}/code")
    sent = db.session.query(VerificationAttempt).filter_by(action="send", outcome="sent").one()
    # A second code went 30 minutes ago; the first 40: two in the hour, the limit.
    db.session.add(VerificationAttempt(number_hash=sent.number_hash, subject=sent.subject,
                                       merchant_number_id=number.id, action="send", outcome="sent",
                                       channel="sms", provider_sid="VEolder",
                                       created_at=utcnow() - timedelta(minutes=30)))
    sent.created_at = utcnow() - timedelta(minutes=40)
    db.session.commit()
    with merchant_client.session_transaction() as session:
        session.pop("resend_at", None)
    page = merchant_client.get(f"/merchant/numbers/{number.id}").text
    assert re.search(r'id="send-code"[^>]*disabled', page)
    assert re.search(r"You can ask for a new code in about (2\d|30) minutes\.", words(page)), words(page)
