"""AvailablePhoneNumbers (countries, Local, Mobile), buying from them, the account and the Verify
service: each answer checked against Twilio's spec, and driven through the official SDK."""

from __future__ import annotations

import json

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from sim_support import ACCOUNT_SID, API, AUTH_TOKEN, SERVICE_SID, RewritingHttpClient
from spec_support import assert_response_matches_spec
from twilio_sim.server import SimulatorServer

BASE = f"/2010-04-01/Accounts/{ACCOUNT_SID}"


@pytest.fixture
def twilio(sim_app) -> Client:
    with SimulatorServer(sim_app) as server:
        yield Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RewritingHttpClient(server.url))


def _get(sim, product: str, path: str, **query):
    response = sim.get(f"/{product}{path}", query_string=query)
    assert_response_matches_spec(product, path, response)
    return response


def test_countries_list_and_fetch_match_the_spec(sim):
    listing = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers.json").json
    codes = [c["country_code"] for c in listing["countries"]]
    assert {"US", "GB", "AU", "CN"} <= set(codes)
    us = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers/US.json").json
    assert us["country"] == "United States"
    assert "mobile" not in us["subresource_uris"]
    assert us["subresource_uris"]["local"].endswith("/US/Local.json")


def test_local_and_mobile_lists_match_the_spec_and_filter(sim):
    local = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers/US/Local.json", AreaCode="415").json
    numbers = [n["phone_number"] for n in local["available_phone_numbers"]]
    assert numbers and all(n.startswith("+1415") for n in numbers)
    contains = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers/US/Local.json", Contains="5550142").json
    assert [n["phone_number"] for n in contains["available_phone_numbers"]] == [
        "+14155550142", "+12125550142", "+13125550142"]
    # London numbers take no texts: asking for SMS leaves none.
    gb_sms = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers/GB/Local.json", SmsEnabled="true").json
    assert gb_sms["available_phone_numbers"] == []
    mobile = _get(sim, "api", f"{BASE}/AvailablePhoneNumbers/GB/Mobile.json", VoiceEnabled="true",
                  SmsEnabled="true", PageSize="5").json
    assert len(mobile["available_phone_numbers"]) == 5
    assert mobile["available_phone_numbers"][0]["capabilities"] == {
        "voice": True, "sms": True, "mms": True, "fax": False}


def test_unknown_country_and_type_are_404_as_twilio_answers(sim):
    for tail in ("ZZ/Local.json", "US/Mobile.json", "ZZ.json"):
        path = f"{BASE}/AvailablePhoneNumbers/{tail}"
        refused = sim.get(f"/api{path}")
        assert refused.status_code == 404
        assert refused.json == {"code": 20404, "message": f"The requested resource {path} was not found",
                                "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}


def test_bought_and_sold_numbers_leave_the_list(sim, sim_state):
    path = f"{API}/AvailablePhoneNumbers/AU/Mobile.json"
    first, second = [n["phone_number"] for n in sim.get(path).json["available_phone_numbers"][:2]]
    created = sim.post(f"{API}/IncomingPhoneNumbers.json", {"PhoneNumber": first})
    assert created.status_code == 201
    sim_state.sold_elsewhere.add(second)
    listed = [n["phone_number"] for n in sim.get(path).json["available_phone_numbers"]]
    assert first not in listed and second not in listed
    gone = sim.post(f"{API}/IncomingPhoneNumbers.json", {"PhoneNumber": second})
    assert (gone.status_code, gone.json["code"]) == (400, 21422)
    assert sim.delete(f"{API}/IncomingPhoneNumbers/{created.json['sid']}.json").status_code == 204
    assert first in [n["phone_number"] for n in sim.get(path).json["available_phone_numbers"]]


def test_account_and_verify_service_match_the_spec(sim):
    account = _get(sim, "api", f"{BASE}.json").json
    assert (account["sid"], account["status"], account["type"]) == (ACCOUNT_SID, "active", "Full")
    service = _get(sim, "verify", f"/v2/Services/{SERVICE_SID}").json
    assert (service["sid"], service["code_length"]) == (SERVICE_SID, 6)
    services = _get(sim, "verify", "/v2/Services").json
    assert [s["sid"] for s in services["services"]] == [SERVICE_SID]
    assert sim.get(f"/verify/v2/Services/VA{'0' * 32}").json["code"] == 20404


def test_the_sdk_searches_buys_updates_and_releases(twilio, sim_state):
    countries = twilio.available_phone_numbers.list()
    assert "GB" in [c.country_code for c in countries]
    assert twilio.available_phone_numbers("US").fetch().country == "United States"
    local = twilio.available_phone_numbers("US").local.list(area_code=212, sms_enabled=True, limit=3)
    assert len(local) == 3 and local[0].phone_number.startswith("+1212")
    assert local[0].capabilities["sms"] is True
    mobile = twilio.available_phone_numbers("CN").mobile.list(contains="139001000", limit=2)
    assert [m.iso_country for m in mobile] == ["CN", "CN"]

    bought = twilio.incoming_phone_numbers.create(
        phone_number=local[0].phone_number, voice_url="https://app.example/voice", sms_url="https://app.example/sms",
        status_callback="https://app.example/status")
    assert bought.voice_url == "https://app.example/voice"
    updated = twilio.incoming_phone_numbers(bought.sid).update(friendly_name="Proxy 9")
    assert updated.friendly_name == "Proxy 9"
    sim_state.sold_elsewhere.add(local[1].phone_number)
    with pytest.raises(TwilioRestException) as gone:
        twilio.incoming_phone_numbers.create(phone_number=local[1].phone_number)
    assert (gone.value.status, gone.value.code) == (400, 21422)
    assert twilio.incoming_phone_numbers(bought.sid).delete() is True
    assert sim_state.find_number(local[0].phone_number) is None

    # A list's refused page is a TwilioException carrying Twilio's answer, as from Twilio.
    with pytest.raises(TwilioException) as unknown:
        twilio.available_phone_numbers("ZZ").local.list()
    refusal = unknown.value.args[1]
    assert (refusal.status_code, json.loads(refusal.text)["code"]) == (404, 20404)


def test_the_sdk_fetches_the_account_and_the_verify_service(twilio):
    assert twilio.api.v2010.accounts(ACCOUNT_SID).fetch().status == "active"
    assert twilio.verify.v2.services(SERVICE_SID).fetch().code_length == 6
    assert [s.sid for s in twilio.verify.v2.services.list()] == [SERVICE_SID]
