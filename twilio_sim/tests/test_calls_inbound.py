"""Calls to the account's numbers: a shopper calls the proxy number back."""

from __future__ import annotations

import time

import pytest

from sim_support import OWNED_NUMBER

SHOPPER = "+8613900139000"
MERCHANT = "+8613800138000"


@pytest.fixture
def proxy(voice, product):
    """The owned number, answering with the product's /voice/incoming."""
    number = voice.find_number(OWNED_NUMBER)
    number.voice_url = product.url + "/voice/incoming"
    number.status_callback = product.url + "/status/inbound"
    return OWNED_NUMBER


def test_inbound_call_plays_the_voice_url_and_relays_to_the_merchant(voice, product, proxy):
    voice.script(SHOPPER, hangup_after=None)
    voice.script(MERCHANT, answer_after=2, hangup_after=8)
    product.on("/voice/incoming", f'<Response><Say>Connecting you.</Say><Dial callerId="{proxy}">'
                                  f"<Number>{MERCHANT}</Number></Dial></Response>")
    sid = voice.start_inbound_call(SHOPPER, proxy)
    voice.wait_idle(5)

    leg = voice.call(sid)
    assert (leg.direction, leg.from_, leg.to, leg.party) == ("inbound", SHOPPER, proxy, SHOPPER)
    assert leg.status == "completed"
    assert leg.heard == ("Connecting you.",)
    [fetch] = product.received("/voice/incoming")
    assert fetch["valid"]
    assert (fetch["form"]["Direction"], fetch["form"]["CallStatus"]) == ("inbound", "ringing")
    assert (fetch["form"]["From"], fetch["form"]["To"], fetch["form"]["CallSid"]) == (SHOPPER, proxy, sid)
    relay = voice.call(leg.children[0])
    # The merchant sees the proxy number: the shopper's own number never reaches it.
    assert relay.from_ == proxy != SHOPPER
    assert (relay.to, relay.status, relay.duration) == (MERCHANT, "completed", 8)
    # The number's StatusCallback hears only how the call ended.
    [ended] = product.forms("/status/inbound")
    assert (ended["CallStatus"], ended["CallSid"], ended["Direction"]) == ("completed", sid, "inbound")


def test_the_caller_hangs_up(voice, product, proxy):
    voice.script(SHOPPER, hangup_after=3)
    product.on("/voice/incoming", '<Response><Say>Please hold.</Say><Pause length="30"/></Response>')
    sid = voice.start_inbound_call(SHOPPER, proxy)
    voice.wait_idle(5)
    assert (voice.call(sid).status, voice.call(sid).duration) == ("completed", 3)


def test_caller_hanging_up_by_hand(voice, product, proxy):
    product.on("/voice/incoming", '<Response><Pause length="600"/></Response>')
    sid = voice.start_inbound_call(SHOPPER, proxy)  # unscripted: a person on the phones page
    voice.wait_for_call(sid, "in-progress")
    assert voice.hangup(sid)
    assert voice.wait_for_call(sid).status == "completed"


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_leaves_the_call_unanswered(voice, product, proxy, reason, status):
    product.on("/voice/incoming", f'<Response><Reject reason="{reason}"/></Response>')
    sid = voice.start_inbound_call(SHOPPER, proxy)
    voice.wait_idle(5)
    leg = voice.call(sid)
    assert (leg.status, leg.duration, leg.heard) == (status, 0, ())


def test_answer_on_bridge_keeps_the_caller_ringing_until_the_callee_answers(voice, product, proxy):
    voice.script(SHOPPER)
    voice.script(MERCHANT, outcome="manual")
    product.on("/voice/incoming", f'<Response><Dial answerOnBridge="true" callerId="{proxy}">'
                                  f"{MERCHANT}</Dial></Response>")
    sid = voice.start_inbound_call(SHOPPER, proxy)
    deadline = time.monotonic() + 5
    while not voice.call(sid).children:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    relay = voice.call(sid).children[0]
    voice.wait_for_call(relay, "ringing")
    assert voice.call(sid).status == "ringing"
    assert voice.answer(relay)
    voice.wait_for_call(relay, "in-progress")
    assert voice.call(sid).status == "in-progress"
    voice.hangup(relay)
    voice.wait_idle(5)
    assert voice.call(sid).status == "completed"


def test_number_without_voice_url_fails_cleanly(voice, product):
    sid = voice.start_inbound_call(SHOPPER, OWNED_NUMBER)
    leg = voice.call(sid)
    assert leg.status == "failed"
    assert "VoiceUrl" in leg.error
    voice.wait_idle(5)
    assert product.requests == []


def test_number_the_account_does_not_own_fails_cleanly(voice):
    leg = voice.call(voice.start_inbound_call(SHOPPER, "+15005550123"))
    assert leg.status == "failed"
    assert "not a phone number of this account" in leg.error
