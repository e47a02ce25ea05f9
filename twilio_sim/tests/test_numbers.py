"""IncomingPhoneNumbers: buying, listing, configuring and releasing numbers."""

from __future__ import annotations

import re

from sim_support import API


def test_create_list_update_fetch_delete(sim, sim_state):
    created = sim.post(f"{API}/IncomingPhoneNumbers.json", {"PhoneNumber": "+8675512345678"})
    assert created.status_code == 201
    sid = created.json["sid"]
    assert re.fullmatch(r"PN[0-9a-f]{32}", sid)
    assert created.json["phone_number"] == "+8675512345678"
    assert created.json["capabilities"]["sms"] is True

    listing = sim.get(f"{API}/IncomingPhoneNumbers.json").json
    assert [n["sid"] for n in listing["incoming_phone_numbers"]] == [sid]

    voice_url = "http://127.0.0.1:5000/webhooks/twilio/voice/incoming"
    updated = sim.post(
        f"{API}/IncomingPhoneNumbers/{sid}.json",
        {"VoiceUrl": voice_url, "VoiceMethod": "POST", "SmsUrl": voice_url, "FriendlyName": "P1"},
    )
    assert updated.status_code == 200
    assert updated.json["voice_url"] == voice_url
    assert updated.json["friendly_name"] == "P1"
    assert sim_state.find_number("+8675512345678").sms_url == voice_url

    fetched = sim.get(f"{API}/IncomingPhoneNumbers/{sid}.json").json
    assert fetched["voice_url"] == voice_url
    assert fetched["sms_method"] == "POST"

    assert sim.delete(f"{API}/IncomingPhoneNumbers/{sid}.json").status_code == 204
    assert sim.get(f"{API}/IncomingPhoneNumbers/{sid}.json").json["code"] == 20404
    assert sim_state.incoming_numbers() == []


def test_list_filters_by_phone_number(sim, sim_state):
    sim_state.add_incoming_number("+15005550006")
    sim_state.add_incoming_number("+8675512345678")
    exact = sim.get(f"{API}/IncomingPhoneNumbers.json", query_string={"PhoneNumber": "+15005550006"})
    assert [n["phone_number"] for n in exact.json["incoming_phone_numbers"]] == ["+15005550006"]
    wildcard = sim.get(f"{API}/IncomingPhoneNumbers.json", query_string={"PhoneNumber": "755*"})
    assert [n["phone_number"] for n in wildcard.json["incoming_phone_numbers"]] == ["+8675512345678"]


def test_list_pages(sim, sim_state):
    for n in range(3):
        sim_state.add_incoming_number(f"+1500555000{n}")
    first = sim.get(f"{API}/IncomingPhoneNumbers.json", query_string={"PageSize": 2}).json
    assert len(first["incoming_phone_numbers"]) == 2
    assert first["next_page_uri"].startswith("/2010-04-01/")
    second = sim.get("/api" + first["next_page_uri"]).json
    assert len(second["incoming_phone_numbers"]) == 1
    assert second["next_page_uri"] is None


def test_duplicate_and_invalid_numbers_refused(sim, sim_state):
    sim_state.add_incoming_number("+15005550006")
    duplicate = sim.post(f"{API}/IncomingPhoneNumbers.json", {"PhoneNumber": "+15005550006"})
    assert (duplicate.status_code, duplicate.json["code"]) == (400, 21422)
    invalid = sim.post(f"{API}/IncomingPhoneNumbers.json", {"PhoneNumber": "5550006"})
    assert (invalid.status_code, invalid.json["code"]) == (400, 21421)
    missing = sim.post(f"{API}/IncomingPhoneNumbers.json", {})
    assert missing.json["code"] == 21421


def test_area_code_buys_a_free_number(sim):
    created = sim.post(f"{API}/IncomingPhoneNumbers.json", {"AreaCode": "415"})
    assert created.status_code == 201
    assert created.json["phone_number"].startswith("+1415555")


def test_add_incoming_number_is_idempotent(sim_state):
    sid = sim_state.add_incoming_number("+15005550006", "Proxy")
    assert sim_state.add_incoming_number("+15005550006") == sid
    [number] = sim_state.incoming_numbers()
    assert number.friendly_name == "Proxy"
