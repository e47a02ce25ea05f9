"""Outbound calls through the app's TwiML: the platform calls the merchant, then dials the shopper."""

from __future__ import annotations

import re

import pytest

from sim_support import ACCOUNT_SID, OWNED_NUMBER, place_call

MERCHANT = "+8613800138000"
SHOPPER = "+8613900139000"
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
RFC2822 = re.compile(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$")


def bridge_twiml(product, number_attrs: str = "", dial_attrs: str = "") -> str:
    return (
        "<Response><Say language=\"zh-CN\">您有一个回拨请求</Say>"
        f"<Dial callerId=\"{OWNED_NUMBER}\" action=\"/voice/dial-done\" timeout=\"20\" {dial_attrs}>"
        f"<Number statusCallback=\"{product.url}/status/shopper\" "
        f"statusCallbackEvent=\"initiated ringing answered completed\" {number_attrs}>{SHOPPER}</Number>"
        "</Dial></Response>"
    )


def test_merchant_then_shopper_bridged_with_the_proxy_as_caller_id(sim, voice, product):
    voice.script(MERCHANT, answer_after=2)
    voice.script(SHOPPER, answer_after=3, hangup_after=5)
    product.on("/voice/merchant", bridge_twiml(product))
    product.on("/voice/dial-done", "<Response><Hangup/></Response>")
    created = place_call(
        sim, MERCHANT, product.url + "/voice/merchant",
        StatusCallback=product.url + "/status/merchant", StatusCallbackEvent=ALL_EVENTS,
    )
    assert re.fullmatch(r"CA[0-9a-f]{32}", created["sid"])
    assert (created["status"], created["direction"]) == ("queued", "outbound-api")
    assert created["parent_call_sid"] is None
    assert (created["from"], created["to"], created["account_sid"]) == (OWNED_NUMBER, MERCHANT, ACCOUNT_SID)
    voice.wait_idle(5)

    parent = voice.call(created["sid"])
    assert parent.status == "completed"
    assert parent.heard == ("您有一个回拨请求",)
    assert parent.said[0]["language"] == "zh-CN"
    [child_sid] = parent.children
    child = voice.call(child_sid)
    assert (child.parent_sid, child.direction, child.to) == (parent.sid, "outbound-dial", SHOPPER)
    # The shopper sees the proxy number, never the merchant's.
    assert child.from_ == OWNED_NUMBER != parent.to
    assert (child.status, child.duration) == ("completed", 5)
    assert parent.duration >= 3 + 5

    [fetch] = product.received("/voice/merchant")
    assert fetch["valid"] and fetch["method"] == "POST"
    assert fetch["form"]["CallSid"] == parent.sid
    assert fetch["form"]["CallStatus"] == "in-progress"
    assert fetch["form"]["Direction"] == "outbound-api"
    assert (fetch["form"]["From"], fetch["form"]["To"]) == (OWNED_NUMBER, MERCHANT)
    assert (fetch["form"]["Caller"], fetch["form"]["Called"]) == (OWNED_NUMBER, MERCHANT)
    assert (fetch["form"]["AccountSid"], fetch["form"]["ApiVersion"]) == (ACCOUNT_SID, "2010-04-01")
    assert fetch["form"]["ToCountry"] == "CN"

    [done] = product.received("/voice/dial-done")
    assert done["valid"]
    assert done["form"]["DialCallStatus"] == "completed"
    assert done["form"]["DialCallSid"] == child.sid
    assert done["form"]["DialCallDuration"] == "5"
    assert done["form"]["CallSid"] == parent.sid

    merchant_events = product.received("/status/merchant")
    assert [r["form"]["CallStatus"] for r in merchant_events] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert [r["form"]["SequenceNumber"] for r in merchant_events] == ["0", "1", "2", "3"]
    assert all(r["valid"] for r in merchant_events)
    assert all(r["form"]["CallbackSource"] == "call-progress-events" for r in merchant_events)
    assert all(RFC2822.match(r["form"]["Timestamp"]) for r in merchant_events)
    assert merchant_events[-1]["form"]["CallDuration"] == str(parent.duration)
    assert merchant_events[-1]["form"]["Duration"] == "1"  # billed minutes

    shopper_events = product.received("/status/shopper")
    assert [r["form"]["CallStatus"] for r in shopper_events] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert [r["form"]["SequenceNumber"] for r in shopper_events] == ["0", "1", "2", "3"]
    assert {r["form"]["ParentCallSid"] for r in shopper_events} == {parent.sid}
    assert {r["form"]["From"] for r in shopper_events} == {OWNED_NUMBER}
    assert shopper_events[-1]["form"]["CallDuration"] == "5"

    # The shopper's leg ends before the Dial action is asked what next.
    order = [r["path"] for r in product.requests]
    assert order.index("/voice/dial-done") > max(i for i, p in enumerate(order) if p == "/status/shopper")
    assert order[-1] == "/status/merchant"


@pytest.mark.parametrize(
    ("outcome", "dial_status", "child_status"),
    [("busy", "busy", "busy"), ("no-answer", "no-answer", "no-answer"), ("failed", "failed", "failed")],
)
def test_callee_that_does_not_answer(sim, voice, product, outcome, dial_status, child_status):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, outcome=outcome, answer_after=1)
    product.on("/voice/merchant", bridge_twiml(product))
    product.on("/voice/dial-done", "<Response><Say>The shopper could not be reached.</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)

    parent = voice.call(sid)
    child = voice.call(parent.children[0])
    assert child.status == child_status
    assert child.duration == 0
    [done] = product.forms("/voice/dial-done")
    assert done["DialCallStatus"] == dial_status
    assert done["DialCallSid"] == child.sid
    assert done["DialCallDuration"] == "0"
    # The merchant's call goes on with the action's TwiML.
    assert parent.heard[-1] == "The shopper could not be reached."
    assert parent.status == "completed"
    assert product.forms("/status/shopper")[-1]["CallStatus"] == child_status


def test_no_answer_happens_at_the_dial_timeout(sim, voice, product):
    voice.script(MERCHANT, answer_after=0)
    voice.script(SHOPPER, answer_after=25)  # later than the Dial's 20 s
    product.on("/voice/merchant", bridge_twiml(product))
    product.on("/voice/dial-done", "<Response/>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    assert product.forms("/voice/dial-done")[0]["DialCallStatus"] == "no-answer"
    parent = voice.call(sid)
    # 1 s of speech, then 20 s of ringing: the simulated clock, not the real one.
    assert parent.duration == 21


def test_dial_without_action_goes_on_with_the_next_verb(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, answer_after=1, hangup_after=2)
    product.on("/voice/merchant", f"<Response><Dial>{SHOPPER}</Dial><Say>Goodbye</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    parent = voice.call(sid)
    assert parent.heard == ("Goodbye",)
    # Without callerId, Twilio shows the dialling call's own From.
    assert voice.call(parent.children[0]).from_ == OWNED_NUMBER


def test_the_merchant_hanging_up_ends_the_bridge(sim, voice, product):
    voice.script(MERCHANT, answer_after=1, hangup_after=6)
    voice.script(SHOPPER, answer_after=2)
    product.on("/voice/merchant", bridge_twiml(product))
    product.on("/voice/dial-done", "<Response><Say>never played</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    parent = voice.call(sid)
    child = voice.call(parent.children[0])
    assert (parent.status, parent.duration) == ("completed", 6)
    # Speech took 1 s and ringing 2 s of the merchant's 6.
    assert (child.status, child.duration) == ("completed", 3)
    [done] = product.forms("/voice/dial-done")
    assert (done["DialCallStatus"], done["CallStatus"]) == ("completed", "completed")
    assert "never played" not in parent.heard


def test_whisper_is_played_to_the_callee_before_the_bridge(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, answer_after=1, hangup_after=10)
    product.on("/voice/merchant", bridge_twiml(product, number_attrs='url="/voice/whisper"'))
    product.on("/voice/whisper", "<Response><Say>This call is recorded.</Say></Response>")
    product.on("/voice/dial-done", "<Response/>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    parent = voice.call(sid)
    child = voice.call(parent.children[0])
    assert child.heard == ("This call is recorded.",)
    assert "This call is recorded." not in parent.heard
    [whisper] = product.received("/voice/whisper")
    assert whisper["valid"]
    assert whisper["form"]["CallSid"] == child.sid
    assert whisper["form"]["ParentCallSid"] == parent.sid
    assert whisper["form"]["Direction"] == "outbound-dial"
    assert whisper["form"]["CallStatus"] == "in-progress"
    order = [r["path"] for r in product.requests]
    assert order.index("/voice/whisper") < order.index("/voice/dial-done")
    answered = [r["form"]["CallStatus"] for r in product.received("/status/shopper")].index("in-progress")
    shopper_events = [i for i, p in enumerate(order) if p == "/status/shopper"]
    assert order.index("/voice/whisper") > shopper_events[answered]
    done = product.forms("/voice/dial-done")[0]
    assert (done["DialCallStatus"], done["DialBridged"]) == ("completed", "true")
    assert done["DialCallDuration"] == "10"


def test_a_whisper_that_hangs_up_keeps_the_callee_out(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, answer_after=1)
    product.on("/voice/merchant", bridge_twiml(product, number_attrs='url="/voice/whisper"'))
    product.on("/voice/whisper", "<Response><Say>Not now.</Say><Hangup/></Response>")
    product.on("/voice/dial-done", "<Response><Say>Bye</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    done = product.forms("/voice/dial-done")[0]
    assert (done["DialCallStatus"], done["DialBridged"]) == ("completed", "false")
    assert voice.call(sid).heard[-1] == "Bye"


def test_dial_recording_reaches_the_action_and_its_callback(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script(SHOPPER, answer_after=2, hangup_after=7)
    product.on("/voice/merchant", bridge_twiml(
        product, dial_attrs='record="record-from-answer-dual" recordingStatusCallback="/recording"'))
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    parent = voice.call(sid)
    [recording] = parent.recordings
    assert (recording.duration, recording.channels, recording.source) == (7, 2, "DialVerb")
    assert recording.call_sid == parent.sid
    done = product.forms("/voice/dial-done")[0]
    assert done["RecordingSid"] == recording.sid
    assert done["RecordingDuration"] == "7"
    assert done["RecordingUrl"].endswith(f"/Accounts/{ACCOUNT_SID}/Recordings/{recording.sid}")
    [callback] = product.received("/recording")
    assert callback["valid"]
    assert callback["form"]["RecordingStatus"] == "completed"
    assert (callback["form"]["CallSid"], callback["form"]["RecordingChannels"]) == (parent.sid, "2")


def test_caller_id_must_belong_to_the_account(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice/merchant", f'<Response><Dial callerId="+15005550999" action="/voice/dial-done">'
               f"{SHOPPER}</Dial></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice/merchant")["sid"]
    voice.wait_idle(5)
    assert product.forms("/voice/dial-done")[0]["DialCallStatus"] == "failed"
    assert voice.call(sid).children == ()
    assert any("13214" in line for line in voice.call(sid).transcript)
