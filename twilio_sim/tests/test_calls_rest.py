"""The Calls and Recordings REST resources: validation, reading, hanging up, redirecting, audio."""

from __future__ import annotations

import io
import time
import wave

import pytest
import requests
from twilio.rest import Client

from sim_support import ACCOUNT_SID, API, AUTH_TOKEN, OWNED_NUMBER, RewritingHttpClient, place_call
from twilio_sim.server import SimulatorServer

MERCHANT = "+8613800138000"
HOLD = '<Response><Say>Hold on.</Say><Pause length="600"/></Response>'


def wait_until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_to_is_required(sim, voice):
    response = sim.post(f"{API}/Calls.json", {"From": OWNED_NUMBER, "Url": "http://127.0.0.1:9/x"})
    assert response.status_code == 400
    assert "To" in response.json["message"]


def test_from_must_be_an_account_number(sim, voice):
    response = sim.post(f"{API}/Calls.json", {"To": MERCHANT, "From": "+15005550001",
                                              "Url": "http://127.0.0.1:9/x"})
    assert response.status_code == 400
    assert response.json["code"] == 21210
    assert voice.calls() == []


def test_to_must_be_a_number_and_a_url_is_needed(sim, voice):
    bad_to = sim.post(f"{API}/Calls.json", {"To": "12345", "From": OWNED_NUMBER, "Url": "http://x/y"})
    assert bad_to.json["code"] == 21211
    no_url = sim.post(f"{API}/Calls.json", {"To": MERCHANT, "From": OWNED_NUMBER})
    assert (no_url.status_code, no_url.json["code"]) == (400, 21205)
    bad_method = sim.post(f"{API}/Calls.json", {"To": MERCHANT, "From": OWNED_NUMBER,
                                                "Url": "http://x/y", "Method": "PUT"})
    assert bad_method.status_code == 400


def test_fetch_list_and_delete(sim, voice, product):
    voice.script(MERCHANT, answer_after=1, hangup_after=2)
    product.on("/voice", HOLD)
    created = place_call(sim, MERCHANT, product.url + "/voice")
    assert created["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{created['sid']}.json"
    assert created["subresource_uris"]["recordings"].endswith(f"/Calls/{created['sid']}/Recordings.json")
    assert created["from_formatted"] == "(500) 555-0006"
    voice.wait_idle(5)
    fetched = sim.get(f"{API}/Calls/{created['sid']}.json").json
    assert (fetched["status"], fetched["duration"]) == ("completed", "2")
    assert fetched["start_time"] and fetched["end_time"]
    assert [c["sid"] for c in sim.get(f"{API}/Calls.json", query_string={"To": MERCHANT}).json["calls"]] == [
        created["sid"]]
    assert sim.get(f"{API}/Calls.json", query_string={"Status": "busy"}).json["calls"] == []
    assert sim.get(f"{API}/Calls/CA{'0' * 32}.json").json["code"] == 20404
    assert sim.delete(f"{API}/Calls/{created['sid']}.json").status_code == 204
    assert sim.get(f"{API}/Calls/{created['sid']}.json").status_code == 404


def test_hang_up_a_live_call(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", HOLD)
    sid = place_call(sim, MERCHANT, product.url + "/voice", StatusCallback=product.url + "/status")["sid"]
    voice.wait_for_call(sid, "in-progress")
    response = sim.post(f"{API}/Calls/{sid}.json", {"Status": "completed"})
    assert response.json["status"] == "completed"
    voice.wait_idle(5)
    assert voice.call(sid).status == "completed"
    assert product.forms("/status")[-1]["CallStatus"] == "completed"
    # Hanging up again changes nothing; redirecting an ended call is refused.
    assert sim.post(f"{API}/Calls/{sid}.json", {"Status": "completed"}).json["status"] == "completed"
    refused = sim.post(f"{API}/Calls/{sid}.json", {"Url": product.url + "/voice"})
    assert (refused.status_code, refused.json["code"]) == (400, 21220)


def test_cancel_a_ringing_call(sim, voice, product):
    voice.script(MERCHANT, outcome="manual")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_for_call(sid, "ringing")
    assert sim.post(f"{API}/Calls/{sid}.json", {"Status": "canceled"}).json["status"] == "canceled"
    assert voice.wait_for_call(sid).status == "canceled"
    assert product.received("/voice") == []


def test_canceled_leaves_a_call_in_progress_alone(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", HOLD)
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_for_call(sid, "in-progress")
    assert sim.post(f"{API}/Calls/{sid}.json", {"Status": "canceled"}).json["status"] == "in-progress"
    sim.post(f"{API}/Calls/{sid}.json", {"Status": "completed"})
    voice.wait_idle(5)


def test_redirect_a_live_call(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", HOLD)
    product.on("/elsewhere", "<Response><Say>Redirected.</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    wait_until(lambda: "Hold on." in voice.call(sid).heard)
    sim.post(f"{API}/Calls/{sid}.json", {"Url": product.url + "/elsewhere"})
    voice.wait_idle(5)
    assert voice.call(sid).heard == ("Hold on.", "Redirected.")


def test_hanging_up_the_child_leg_ends_the_dial(sim, voice, product):
    voice.script(MERCHANT, answer_after=1)
    voice.script("+8613900139000", answer_after=1)
    product.on("/voice", '<Response><Dial action="/done">+8613900139000</Dial></Response>')
    product.on("/done", "<Response><Say>After the call.</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    wait_until(lambda: voice.call(sid).children)
    child = voice.call(sid).children[0]
    voice.wait_for_call(child, "in-progress")
    sim.post(f"{API}/Calls/{child}.json", {"Status": "completed"})
    voice.wait_idle(5)
    assert voice.call(child).status == "completed"
    assert product.forms("/done")[0]["DialCallStatus"] == "completed"
    assert voice.call(sid).heard == ("After the call.",)
    children = sim.get(f"{API}/Calls.json", query_string={"ParentCallSid": sid}).json["calls"]
    assert [c["sid"] for c in children] == [child]


@pytest.fixture
def server(sim_app):
    with SimulatorServer(sim_app) as server:
        yield server


def test_recording_audio_is_served(voice, product, server):
    voice.script(MERCHANT, answer_after=1, talk_seconds=3)
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RewritingHttpClient(server.url))
    product.on("/voice", '<Response><Record action="/recorded"/></Response>')
    product.on("/recorded", "<Response/>")
    twilio.calls.create(to=MERCHANT, from_=OWNED_NUMBER, url=product.url + "/voice")
    voice.wait_idle(5)
    url = product.forms("/recorded")[0]["RecordingUrl"]
    assert url.startswith(server.url + "/api/2010-04-01/Accounts/")
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    assert requests.get(url, timeout=5).status_code == 401
    wav = requests.get(url, auth=auth, timeout=5)
    assert wav.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert (audio.getframerate(), audio.getnchannels()) == (8000, 1)
        assert audio.getnframes() == 3 * 8000
    assert requests.get(url + ".wav", auth=auth, timeout=5).content == wav.content
    mp3 = requests.get(url + ".mp3", auth=auth, timeout=5)
    assert mp3.headers["Content-Type"] == "audio/mpeg" and mp3.content[:2] == b"\xff\xfb"
    resource = requests.get(url + ".json", auth=auth, timeout=5).json()
    assert (resource["duration"], resource["source"], resource["media_url"]) == ("3", "RecordVerb", url)
    sid = resource["sid"]
    assert twilio.recordings(sid).fetch().duration == "3"
    assert [r.sid for r in twilio.recordings.list(call_sid=resource["call_sid"])] == [sid]
    assert requests.get(url + ".ogg", auth=auth, timeout=5).status_code == 404


def test_the_sdk_places_updates_and_lists_calls(voice, product, server):
    voice.script(MERCHANT, answer_after=1)
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RewritingHttpClient(server.url))
    product.on("/voice", HOLD)
    call = twilio.calls.create(
        to=MERCHANT, from_=OWNED_NUMBER, url=product.url + "/voice",
        status_callback=product.url + "/status", status_callback_method="POST",
        status_callback_event=["initiated", "ringing", "answered", "completed"], timeout=30,
    )
    assert call.status == "queued" and call.direction == "outbound-api"
    voice.wait_for_call(call.sid, "in-progress")
    assert twilio.calls(call.sid).fetch().status == "in-progress"
    assert twilio.calls(call.sid).update(status="completed").status == "completed"
    voice.wait_idle(5)
    assert [c.sid for c in twilio.calls.list(to=MERCHANT)] == [call.sid]
    assert [f["CallStatus"] for f in product.forms("/status")] == [
        "initiated", "ringing", "in-progress", "completed"]
