"""The official Twilio SDK against the simulator over real HTTP."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sim_support import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, RewritingHttpClient
from twilio_sim.server import SimulatorServer

PHONE = "+8613800138000"


@pytest.fixture
def server(sim_app):
    with SimulatorServer(sim_app) as server:
        yield server


@pytest.fixture
def twilio(server) -> Client:
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RewritingHttpClient(server.url))


def test_server_url_and_page(server):
    import requests

    assert server.url.startswith("http://127.0.0.1:")
    page = requests.get(f"{server.url}/phones", timeout=5)
    assert page.status_code == 200
    assert "<title>Simulated phones</title>" in page.text


def test_verify_round_trip(twilio, sim_state):
    service = twilio.verify.v2.services(SERVICE_SID)
    verification = service.verifications.create(to=PHONE, channel="sms", locale="zh")
    assert verification.status == "pending"
    assert verification.sid.startswith("VE")
    assert verification.send_code_attempts[0]["channel"] == "SMS"
    assert verification.date_created is not None

    wrong = service.verification_checks.create(to=PHONE, code="000000")
    code = sim_state.last_code(PHONE)
    if code != "000000":
        assert (wrong.status, wrong.valid) == ("pending", False)
        check = service.verification_checks.create(to=PHONE, code=code)
        assert (check.status, check.valid) == ("approved", True)

    with pytest.raises(TwilioRestException) as refused:
        service.verification_checks.create(to=PHONE, code=code)
    assert (refused.value.status, refused.value.code) == (404, 20404)


def test_sdk_sees_twilio_error_codes(twilio):
    service = twilio.verify.v2.services(SERVICE_SID)
    for _ in range(5):
        service.verifications.create(to=PHONE, channel="call")
    with pytest.raises(TwilioRestException) as refused:
        service.verifications.create(to=PHONE, channel="sms")
    assert (refused.value.status, refused.value.code) == (429, 60203)
    assert "Max send attempts" in refused.value.msg


def test_sdk_bad_credentials(server):
    client = Client(ACCOUNT_SID, "nope", http_client=RewritingHttpClient(server.url))
    with pytest.raises(TwilioRestException) as refused:
        client.incoming_phone_numbers.create(phone_number="+15005550006")
    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_numbers_and_messages_round_trip(twilio, sim_state):
    number = twilio.incoming_phone_numbers.create(phone_number="+15005550006")
    assert number.sid.startswith("PN")
    updated = twilio.incoming_phone_numbers(number.sid).update(
        voice_url="http://127.0.0.1:5000/webhooks/twilio/voice/incoming",
        sms_url="http://127.0.0.1:5000/webhooks/twilio/sms/incoming",
        voice_method="POST",
    )
    assert updated.voice_url.endswith("/voice/incoming")
    assert [n.phone_number for n in twilio.incoming_phone_numbers.list()] == ["+15005550006"]
    assert twilio.incoming_phone_numbers.list(phone_number="+15005550006")[0].sid == number.sid

    message = twilio.messages.create(to=PHONE, from_="+15005550006", body="Hello")
    assert message.status == "queued"
    assert message.date_created is not None
    assert twilio.messages(message.sid).fetch().status == "delivered"
    assert [m.sid for m in twilio.messages.list(to=PHONE)] == [message.sid]
    assert sim_state.inbox(PHONE)[0].body == "Hello"

    with pytest.raises(TwilioRestException) as refused:
        twilio.messages.create(to=PHONE, from_="+15005550001", body="Hello")
    assert refused.value.code == 21606


def test_sdk_paging_follows_next_page_uri(twilio, sim_state):
    for n in range(5):
        sim_state.add_incoming_number(f"+1500555000{n}")
    numbers = twilio.incoming_phone_numbers.list(page_size=2)
    assert len(numbers) == 5
