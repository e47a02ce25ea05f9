"""Verify v2 semantics: codes, reuse on resend, 5 sends, 5 checks, 10-minute life."""

from __future__ import annotations

import re
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from sim_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    VERIFY,
    FakeClock,
    SimClient,
)
from twilio_sim import SimulatorState, create_simulator_app

PHONE = "+8613800138000"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_send_creates_pending_verification_and_texts_the_code(sim, sim_state):
    response = sim.send_code(PHONE)
    assert response.status_code == 201
    body = response.json
    assert re.fullmatch(r"VE[0-9a-f]{32}", body["sid"])
    assert body["status"] == "pending"
    assert body["valid"] is False
    assert body["to"] == PHONE
    assert body["channel"] == "sms"
    assert body["service_sid"] == SERVICE_SID
    assert body["account_sid"] == ACCOUNT_SID
    assert len(body["send_code_attempts"]) == 1
    code = sim_state.last_code(PHONE)
    assert re.fullmatch(r"\d{6}", code)
    [message] = sim_state.inbox(PHONE)
    assert message.kind == "sms"
    assert code in message.body
    assert code not in str(body)


def test_right_code_approves_once(sim, sim_state):
    sim.send_code(PHONE)
    response = sim.check_code(PHONE, sim_state.last_code(PHONE))
    assert response.status_code == 200
    assert response.json["status"] == "approved"
    assert response.json["valid"] is True
    again = sim.check_code(PHONE, sim_state.last_code(PHONE))
    assert again.status_code == 404
    assert again.json["code"] == 20404


def test_wrong_code_stays_pending(sim, sim_state):
    sim.send_code(PHONE)
    response = sim.check_code(PHONE, wrong(sim_state.last_code(PHONE)))
    assert response.status_code == 200
    assert response.json["status"] == "pending"
    assert response.json["valid"] is False
    assert sim.check_code(PHONE, sim_state.last_code(PHONE)).json["status"] == "approved"


def test_sixth_check_is_refused_and_kills_the_verification(sim, sim_state):
    sim.send_code(PHONE)
    code = sim_state.last_code(PHONE)
    for _ in range(5):
        assert sim.check_code(PHONE, wrong(code)).json["status"] == "pending"
    sixth = sim.check_code(PHONE, code)
    assert sixth.status_code == 429
    assert sixth.json["code"] == 60202
    assert sim.check_code(PHONE, code).status_code == 404


def test_resend_reuses_sid_and_code(sim, sim_state):
    first = sim.send_code(PHONE).json
    code = sim_state.last_code(PHONE)
    second = sim.send_code(PHONE, channel="call").json
    assert second["sid"] == first["sid"]
    assert second["channel"] == "call"
    assert len(second["send_code_attempts"]) == 2
    assert sim_state.last_code(PHONE) == code
    assert [m.kind for m in sim_state.inbox(PHONE)] == ["sms", "voice"]


def test_sixth_send_is_refused(sim, sim_state):
    for _ in range(5):
        assert sim.send_code(PHONE).status_code == 201
    sixth = sim.send_code(PHONE)
    assert sixth.status_code == 429
    assert sixth.json["code"] == 60203
    assert len(sim_state.inbox(PHONE)) == 5


def test_sends_allowed_again_once_expired(sim, sim_state, clock):
    first = sim.send_code(PHONE).json
    for _ in range(4):
        sim.send_code(PHONE)
    clock.advance(601)
    fresh = sim.send_code(PHONE)
    assert fresh.status_code == 201
    assert fresh.json["sid"] != first["sid"]


def test_expired_code_is_not_found(sim, sim_state, clock):
    sim.send_code(PHONE)
    clock.advance(599)
    assert sim.check_code(PHONE, "000000").status_code == 200
    clock.advance(2)
    response = sim.check_code(PHONE, sim_state.last_code(PHONE))
    assert response.status_code == 404
    assert response.json["code"] == 20404


def test_check_without_send_is_not_found(sim):
    response = sim.check_code(PHONE, "123456")
    assert response.status_code == 404
    assert response.json["code"] == 20404


def test_check_by_verification_sid(sim, sim_state):
    sid = sim.send_code(PHONE).json["sid"]
    response = sim.post(
        f"{VERIFY}/VerificationCheck", {"VerificationSid": sid, "Code": sim_state.last_code(PHONE)}
    )
    assert response.json["status"] == "approved"
    assert response.json["sid"] == sid


def test_check_needs_code_and_a_target(sim):
    assert sim.post(f"{VERIFY}/VerificationCheck", {"To": PHONE}).json["code"] == 60200
    assert sim.post(f"{VERIFY}/VerificationCheck", {"Code": "123456"}).json["code"] == 60200


def test_to_must_be_e164(sim):
    response = sim.send_code("13800138000")
    assert response.status_code == 400
    assert response.json["code"] == 60200
    assert "`To`" in response.json["message"]


def test_only_sms_and_call_channels(sim):
    response = sim.send_code(PHONE, channel="whatsapp")
    assert response.status_code == 400
    assert response.json["code"] == 60200
    assert "Channel" in response.json["message"]


def test_call_channel_speaks_the_digits(sim, sim_state):
    sim.send_code("+862112345678", channel="call")
    [message] = sim_state.inbox("+862112345678")
    code = sim_state.last_code("+862112345678")
    assert message.kind == "voice"
    assert ", ".join(code) in message.body


def test_fetch_and_cancel_verification(sim, sim_state):
    sid = sim.send_code(PHONE).json["sid"]
    fetched = sim.get(f"{VERIFY}/Verifications/{sid}")
    assert fetched.status_code == 200
    assert fetched.json["status"] == "pending"
    canceled = sim.post(f"{VERIFY}/Verifications/{sid}", {"Status": "canceled"})
    assert canceled.json["status"] == "canceled"
    assert sim.check_code(PHONE, sim_state.last_code(PHONE)).status_code == 404


def test_numbers_are_independent(sim, sim_state):
    other = "+8613900139000"
    sim.send_code(PHONE)
    sim.send_code(other)
    mine, theirs = sim_state.last_code(PHONE), sim_state.last_code(other)
    assert sim.check_code(PHONE, theirs).json["valid"] is (mine == theirs)
    assert sim.check_code(other, theirs).json["valid"] is True


def test_concurrent_sends_respect_the_cap(sim_app, sim_state):
    results: list[int] = []

    def send():
        results.append(SimClient(sim_app).send_code(PHONE).status_code)

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] * 5 + [429] * 7
    assert len(sim_state.verifications) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), max_size=8))
def test_check_sequences_follow_twilio(rights):
    """Any run of right/wrong checks ends as Twilio's rules say."""
    state = SimulatorState(clock=FakeClock())
    sim = SimClient(create_simulator_app(ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, state=state))
    sim.send_code(PHONE)
    code = state.last_code(PHONE)
    finished = False
    for number, right in enumerate(rights, start=1):
        response = sim.check_code(PHONE, code if right else wrong(code))
        if finished:
            assert response.status_code == 404
        elif number > 5:
            assert (response.status_code, response.json["code"]) == (429, 60202)
            finished = True
        elif right:
            assert response.json["status"] == "approved"
            finished = True
        else:
            assert response.json["status"] == "pending"
