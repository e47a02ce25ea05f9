"""The call engine's clock, scripts and test helpers."""

from __future__ import annotations

import dataclasses
import time

import pytest

from sim_support import OWNED_NUMBER, place_call
from twilio_sim.scripts import CallScript

MERCHANT = "+8613800138000"
SHOPPER = "+8613900139000"
HOLD = '<Response><Pause length="600"/></Response>'


def test_simulated_seconds_pass_on_the_scaled_clock(sim, voice, product):
    voice.script(MERCHANT, answer_after=5, hangup_after=30)
    product.on("/voice", HOLD)
    started = time.monotonic()
    sid = place_call(sim, MERCHANT, product.url + "/voice", StatusCallback=product.url + "/status")["sid"]
    leg = voice.wait_for_call(sid)
    elapsed = time.monotonic() - started
    assert (leg.status, leg.duration) == ("completed", 30)
    assert elapsed < 2.0  # 35 simulated seconds at 10 ms each, plus HTTP
    voice.wait_idle(5)
    assert product.forms("/status")[-1]["CallDuration"] == "30"
    # Times on the call follow the simulated timeline too.
    assert leg.end_time - leg.start_time == 35


def test_scripts_and_their_defaults(voice):
    assert voice.script_for("+8613700137000").outcome == "manual"
    script = voice.script(MERCHANT, answer_after=1, digits=["1", None])
    assert voice.script_for(MERCHANT) is script
    assert (script.digits_for(0), script.digits_for(1), script.digits_for(2)) == ("1", None, None)
    assert CallScript(digits="7").digits_for(5) == "7"
    with pytest.raises(ValueError, match="outcome"):
        CallScript(outcome="maybe")
    with pytest.raises(ValueError):
        CallScript(answer_after=-1)
    replaced = voice.script(MERCHANT, CallScript(outcome="busy"))
    assert voice.script_for(MERCHANT) is replaced


def test_snapshots_are_frozen_and_calls_are_listed_in_order(sim, voice, product):
    voice.script(MERCHANT, answer_after=1, hangup_after=1)
    voice.script(SHOPPER, outcome="busy")
    product.on("/voice", "<Response><Say>Hi</Say></Response>")
    first = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    second = place_call(sim, SHOPPER, product.url + "/voice")["sid"]
    voice.wait_idle(5)
    assert {c.sid for c in voice.calls()} == {first, second}
    snapshot = voice.call(first)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.status = "ringing"
    assert snapshot.ended
    assert voice.call(second).status == "busy"
    with pytest.raises(KeyError):
        voice.call("CA" + "0" * 32)


def test_waiting_helpers_time_out(sim, voice, product):
    voice.script(MERCHANT, outcome="manual")
    sid = place_call(sim, MERCHANT, product.url + "/voice", Timeout=600)["sid"]
    with pytest.raises(TimeoutError, match="ringing|queued|initiated"):
        voice.wait_for_call(sid, timeout=0.2)
    with pytest.raises(TimeoutError):
        voice.wait_idle(0.2)
    assert voice.decline(sid)
    assert voice.wait_for_call(sid).status == "busy"
    assert not voice.answer(sid)
    assert not voice.hangup(sid)


def test_reset_stops_running_calls_quietly(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", HOLD)
    sid = place_call(sim, MERCHANT, product.url + "/voice", StatusCallback=product.url + "/status")["sid"]
    voice.wait_for_call(sid, "in-progress")
    deadline = time.monotonic() + 5
    while not product.received("/voice"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    sent = len(product.requests)
    voice.reset()
    voice.wait_idle(2)
    assert voice.calls() == []
    time.sleep(0.05)
    assert len(product.requests) == sent


def test_first_number_to_answer_wins(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, answer_after=4)
    voice.script("+8613700137000", answer_after=2, hangup_after=3)
    product.on("/voice", f'<Response><Dial action="/done" callerId="{OWNED_NUMBER}">'
                         f"<Number>{SHOPPER}</Number><Number>+8613700137000</Number></Dial></Response>")
    product.on("/done", "<Response/>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_idle(5)
    legs = {voice.call(child).to: voice.call(child) for child in voice.call(sid).children}
    assert legs[SHOPPER].status == "canceled"
    assert (legs["+8613700137000"].status, legs["+8613700137000"].duration) == ("completed", 3)
    assert product.forms("/done")[0]["DialCallSid"] == legs["+8613700137000"].sid


def test_a_document_loop_ends_in_an_application_error(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", "<Response><Redirect>/voice</Redirect></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_idle(10)
    leg = voice.call(sid)
    assert leg.error_code == 12400
    assert len(product.received("/voice")) == 100


def test_phones_with_live_calls_come_first(sim, raw_client, voice, product):
    voice.script(MERCHANT, outcome="manual")
    voice.deliver("+8613600136000", OWNED_NUMBER, "a text")
    sid = place_call(sim, MERCHANT, product.url + "/voice", Timeout=600)["sid"]
    voice.wait_for_call(sid, "ringing")
    assert [number for number, _, _ in voice.phones()][:2] == [MERCHANT, "+8613600136000"]
    assert raw_client.get(f"/_sim/phone-calls/{MERCHANT[1:]}").json["calls"][0]["status"] == "ringing"
    voice.decline(sid)
    voice.wait_idle(5)
