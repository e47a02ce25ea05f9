"""TwiML verbs on one leg: Gather, Record, Redirect, Pause, and what happens when the app fails."""

from __future__ import annotations

import time

import pytest
from flask import Response

from sim_support import OWNED_NUMBER, place_call

MERCHANT = "+8613800138000"


def call(sim, voice, product, twiml: str, **script):
    """Script the merchant, serve `twiml` at /voice, place the call, wait for the end."""
    voice.script(MERCHANT, **{"answer_after": 1, **script})
    product.on("/voice", twiml)
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_idle(5)
    return voice.call(sid)


MENU = ('<Response><Gather numDigits="1" action="/choice" timeout="5">'
        "<Say>Press 1 to confirm.</Say></Gather><Say>We did not get your answer.</Say></Response>")


def test_gather_posts_the_scripted_digits_to_its_action(sim, voice, product):
    product.on("/choice", lambda r: f"<Response><Say>You pressed {r['form']['Digits']}.</Say></Response>")
    leg = call(sim, voice, product, MENU, digits="1")
    assert leg.heard == ("Press 1 to confirm.", "You pressed 1.")
    [choice] = product.received("/choice")
    assert choice["valid"]
    assert choice["form"]["Digits"] == "1"
    assert choice["form"]["CallSid"] == leg.sid


def test_gather_timeout_falls_through_to_the_next_verb(sim, voice, product):
    leg = call(sim, voice, product, MENU)
    assert leg.heard == ("Press 1 to confirm.", "We did not get your answer.")
    assert product.received("/choice") == []


def test_gather_finish_key_and_default_action(sim, voice, product):
    def document(record):
        if "Digits" in record["form"]:
            return f"<Response><Say>Extension {record['form']['Digits']}</Say></Response>"
        return "<Response><Gather><Say>Extension, then hash.</Say></Gather></Response>"

    leg = call(sim, voice, product, document, digits="1234#")
    # No action: Twilio posts the digits to the document's own URL.
    second = product.received("/voice")[1]["form"]
    assert (second["Digits"], second["FinishedOnKey"]) == ("1234", "#")
    assert leg.heard[-1] == "Extension 1234"


def test_scripted_digits_per_gather(sim, voice, product):
    def document(record):
        digits = record["form"].get("Digits")
        if digits == "2":
            return "<Response><Say>Done.</Say></Response>"
        return '<Response><Gather numDigits="1"><Say>Choose.</Say></Gather></Response>'

    leg = call(sim, voice, product, document, digits=["9", "2"])
    assert [f.get("Digits") for f in product.forms("/voice")] == [None, "9", "2"]
    assert leg.heard == ("Choose.", "Choose.", "Done.")


def test_keys_pressed_by_hand_reach_the_gather(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", '<Response><Gather numDigits="2" timeout="60" action="/choice">'
                         "<Say>Two digits.</Say></Gather></Response>")
    product.on("/choice", "<Response/>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    deadline = time.monotonic() + 5
    while "Two digits." not in voice.call(sid).heard:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert voice.press(sid, "4")
    assert voice.press(sid, "2")
    voice.wait_idle(5)
    assert product.forms("/choice")[0]["Digits"] == "42"
    assert not voice.press(sid, "1")  # the call is over


def test_record_posts_the_recording_and_serves_it(sim, voice, product):
    product.on("/recorded", "<Response><Say>Thanks.</Say></Response>")
    leg = call(sim, voice, product,
               '<Response><Say>Leave a message.</Say><Record maxLength="30" action="/recorded" '
               'recordingStatusCallback="/recording-status"/></Response>', talk_seconds=4)
    [recording] = leg.recordings
    assert (recording.duration, recording.source, recording.call_sid) == (4, "RecordVerb", leg.sid)
    [posted] = product.received("/recorded")
    assert posted["valid"]
    assert posted["form"]["RecordingSid"] == recording.sid
    assert posted["form"]["RecordingDuration"] == "4"
    assert posted["form"]["RecordingUrl"] == recording.url
    [status] = product.forms("/recording-status")
    assert (status["RecordingStatus"], status["RecordingSid"], status["CallSid"]) == (
        "completed", recording.sid, leg.sid)
    assert leg.heard == ("Leave a message.", "Thanks.")


def test_record_is_cut_at_max_length_and_a_hangup_still_reports(sim, voice, product):
    leg = call(sim, voice, product,
               '<Response><Record maxLength="3" action="/recorded"/></Response>', talk_seconds=10,
               hangup_after=3)
    assert [r.duration for r in leg.recordings] == [3]
    assert product.forms("/recorded")[0]["Digits"] == "hangup"


def test_redirect_pause_and_relative_urls(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice/start", '<Response><Redirect method="POST">next</Redirect></Response>')
    product.on("/voice/next", '<Response><Pause length="4"/><Say>Moved on.</Say></Response>')
    sid = place_call(sim, MERCHANT, product.url + "/voice/start")["sid"]
    voice.wait_idle(5)
    leg = voice.call(sid)
    assert leg.heard == ("Moved on.",)
    assert [r["path"] for r in product.requests] == ["/voice/start", "/voice/next"]
    assert leg.duration == 4 + 1


def test_plain_text_answer_is_read_aloud(sim, voice, product):
    leg = call(sim, voice, product, Response("Hello there.", mimetype="text/plain"))
    assert leg.heard == ("Hello there.",)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (Response("boom", status=500), 11200),
        (Response("<Response><Say>unclosed</Response>", mimetype="text/xml"), 12100),
        (Response("not xml at all", mimetype="text/xml"), 12100),
        (Response('{"say": "hi"}', mimetype="application/json"), 12300),
        (Response("<Response><Dance/></Response>", mimetype="text/xml"), 12200),
        (Response("<Response><Connect/></Response>", mimetype="text/xml"), 12200),
    ],
)
def test_an_app_that_fails_gets_an_application_error(sim, voice, product, answer, code):
    leg = call(sim, voice, product, answer)
    assert leg.status == "completed"
    assert leg.error_code == code
    assert leg.error
    assert leg.heard[-1] == "We are sorry, an application error has occurred. Goodbye."
    assert any("application error" in line for line in leg.transcript)


def test_unreachable_url_and_the_fallback(sim, voice):
    voice.script(MERCHANT, answer_after=1)
    sid = place_call(sim, MERCHANT, "http://127.0.0.1:9/voice")["sid"]
    voice.wait_idle(5)
    assert voice.call(sid).error_code == 11200


def test_fallback_url_gets_the_error(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", Response("down", status=503))
    product.on("/fallback", "<Response><Say>Fallback speaking.</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice", FallbackUrl=product.url + "/fallback")["sid"]
    voice.wait_idle(5)
    leg = voice.call(sid)
    assert leg.heard == ("Fallback speaking.",)
    assert leg.error is None
    [fallback] = product.forms("/fallback")
    assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("11200", product.url + "/voice")


def test_inline_twiml_and_get_method(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    sid = place_call(sim, MERCHANT, Twiml="<Response><Say>Inline.</Say></Response>")["sid"]
    product.on("/get", "<Response><Say>By GET.</Say></Response>")
    by_get = place_call(sim, MERCHANT, product.url + "/get?x=1", Method="GET")["sid"]
    voice.wait_idle(5)
    assert voice.call(sid).heard == ("Inline.",)
    assert voice.call(by_get).heard == ("By GET.",)
    [request] = product.received("/get")
    assert request["method"] == "GET" and request["valid"]
    assert request["form"]["x"] == "1" and request["form"]["CallSid"] == by_get


def test_whole_call_recording_on_the_completed_callback(sim, voice, product):
    voice.script(MERCHANT, answer_after=1, hangup_after=12)
    product.on("/voice", '<Response><Pause length="60"/></Response>')
    sid = place_call(sim, MERCHANT, product.url + "/voice", Record="true",
                     StatusCallback=product.url + "/status",
                     RecordingStatusCallback=product.url + "/recording")["sid"]
    voice.wait_idle(5)
    [recording] = voice.call(sid).recordings
    assert (recording.duration, recording.source) == (12, "OutboundAPI")
    completed = product.forms("/status")[-1]
    assert completed["CallStatus"] == "completed"
    assert (completed["RecordingSid"], completed["RecordingDuration"]) == (recording.sid, "12")
    assert product.forms("/recording")[0]["RecordingSid"] == recording.sid


def test_outbound_call_to_a_busy_merchant_never_fetches_the_url(sim, voice, product):
    leg = call(sim, voice, product, "<Response/>", outcome="busy")
    assert (leg.status, leg.duration) == ("busy", 0)
    assert product.received("/voice") == []
    assert leg.from_ == OWNED_NUMBER
