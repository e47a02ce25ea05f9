"""Messages: sending from owned numbers, the inbox, and signed status callbacks."""

from __future__ import annotations

import re

from twilio.request_validator import RequestValidator

from sim_support import API, AUTH_TOKEN

PHONE = "+8613800138000"


def send(sim, **form):
    return sim.post(f"{API}/Messages.json", form)


def test_text_lands_in_the_inbox(sim, sim_state, owned_number):
    response = send(sim, To=PHONE, From=owned_number, Body="Your callback is at 15:00")
    assert response.status_code == 201
    body = response.json
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["from"] == owned_number
    assert body["direction"] == "outbound-api"
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", body["date_created"])
    [message] = sim_state.inbox(PHONE)
    assert (message.sid, message.from_, message.to) == (body["sid"], owned_number, PHONE)
    assert message.body == "Your callback is at 15:00"
    assert message.kind == "sms"
    assert sim_state.last_code(PHONE) is None


def test_from_must_be_an_owned_number(sim, sim_state):
    response = send(sim, To=PHONE, From="+15005550001", Body="hi")
    assert response.status_code == 400
    assert response.json["code"] == 21606
    assert "not a valid, SMS-capable inbound phone number" in response.json["message"]
    assert sim_state.inbox(PHONE) == []


def test_to_must_be_e164(sim, owned_number):
    response = send(sim, To="138 0013 8000", From=owned_number, Body="hi")
    assert response.status_code == 400
    assert response.json["code"] == 21211
    assert "Invalid 'To' Phone Number" in response.json["message"]


def test_from_or_service_and_body_required(sim, owned_number):
    assert send(sim, To=PHONE, Body="hi").json["code"] == 21603
    assert send(sim, To=PHONE, From=owned_number).json["code"] == 21602
    assert send(sim, From=owned_number, Body="hi").status_code == 400


def test_messaging_service_sends_from_the_pool(sim, sim_state, owned_number):
    response = send(sim, To=PHONE, MessagingServiceSid="MG" + "1" * 32, Body="hi")
    assert response.status_code == 201
    assert response.json["from"] == owned_number


def test_list_and_fetch(sim, owned_number):
    first = send(sim, To=PHONE, From=owned_number, Body="one").json
    send(sim, To="+8613900139000", From=owned_number, Body="two")
    listing = sim.get(f"{API}/Messages.json").json
    assert len(listing["messages"]) == 2
    assert listing["next_page_uri"] is None
    assert listing["page"] == 0
    filtered = sim.get(f"{API}/Messages.json", query_string={"To": PHONE}).json
    assert [m["body"] for m in filtered["messages"]] == ["one"]
    fetched = sim.get(f"{API}/Messages/{first['sid']}.json")
    assert fetched.json["body"] == "one"
    assert fetched.json["status"] == "delivered"
    assert sim.get(f"{API}/Messages/SM{'0' * 32}.json").json["code"] == 20404


def test_long_unicode_text_counts_segments(sim, owned_number):
    body = "您好" * 40
    assert send(sim, To=PHONE, From=owned_number, Body=body).json["num_segments"] == "2"


def test_status_callbacks_are_signed_as_twilio_signs(sim, sim_state, owned_number, receiver):
    callback = f"{receiver.url}/webhooks/twilio/sms/status?leg=1"
    sid = send(sim, To=PHONE, From=owned_number, Body="hi", StatusCallback=callback).json["sid"]
    requests = receiver.wait_for(2)
    assert [r["form"]["MessageStatus"] for r in requests] == ["sent", "delivered"]
    validator = RequestValidator(AUTH_TOKEN)
    for request in requests:
        assert request["url"] == callback
        assert request["form"]["MessageSid"] == sid
        assert request["form"]["From"] == owned_number
        assert request["form"]["To"] == PHONE
        assert validator.validate(request["url"], request["form"], request["signature"])
        assert not RequestValidator("other-token").validate(
            request["url"], request["form"], request["signature"]
        )
    sim.client.application.extensions["twilio_simulator"].webhooks.join()
    log = sim_state.webhook_log()
    assert [record.status_code for record in log] == [204, 204]


def test_unreachable_callback_is_recorded_not_raised(sim, sim_app, sim_state, owned_number):
    sender = sim_app.extensions["twilio_simulator"].webhooks
    sender.timeout = 0.5
    response = send(sim, To=PHONE, From=owned_number, Body="hi", StatusCallback="http://127.0.0.1:9/x")
    assert response.status_code == 201
    sender.join()
    log = sim_state.webhook_log()
    assert len(log) == 2
    assert all(record.error and record.status_code is None for record in log)
