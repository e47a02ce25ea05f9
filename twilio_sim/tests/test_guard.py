"""Every REST request: credentials, the account in the path, the official spec."""

from __future__ import annotations

import pytest

from sim_support import ACCOUNT_SID, API, VERIFY, basic_auth


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth(password="wrong"),
        basic_auth(user="AC" + "1" * 32),
        {"Authorization": "Bearer x"},
    ],
    ids=["missing", "wrong-token", "wrong-account", "not-basic"],
)
def test_bad_credentials_get_twilio_401(raw_client, headers):
    response = raw_client.post(
        f"{VERIFY}/Verifications", data={"To": "+8613800138000", "Channel": "sms"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_bad_credentials_refused_before_anything_happens(raw_client, sim_state):
    raw_client.post(f"{VERIFY}/Verifications", data={"To": "+8613800138000", "Channel": "sms"})
    assert sim_state.inbox("+8613800138000") == []


def test_another_accounts_path_is_not_found(sim):
    other = "AC" + "9" * 32
    response = sim.get(f"/api/2010-04-01/Accounts/{other}/Messages.json")
    assert response.status_code == 404
    assert response.json["code"] == 20404


@pytest.mark.parametrize(
    "path",
    [f"{API}/Nothing.json", "/verify/v2/Nowhere", f"{VERIFY}/Verifications/VE1/Extra"],
)
def test_unknown_paths_are_twilio_404(sim, path):
    response = sim.get(path)
    assert response.status_code == 404
    assert response.json["code"] == 20404
    assert "was not found" in response.json["message"]


def test_spec_path_the_simulator_does_not_serve_says_so(sim):
    response = sim.get(f"{API}/Queues.json")
    assert response.status_code == 404
    assert response.json["code"] == 20404
    assert "simulator does not" in response.json["message"]


def test_method_the_spec_does_not_allow_is_405(sim):
    response = sim.client.put(f"{API}/Messages.json", headers=basic_auth())
    assert response.status_code == 405
    assert response.json["code"] == 20004


def test_unknown_verify_service_is_404(sim):
    other_service = "VA" + "1" * 32
    response = sim.post(
        f"/verify/v2/Services/{other_service}/Verifications",
        {"To": "+8613800138000", "Channel": "sms"},
    )
    assert response.status_code == 404
    assert response.json["code"] == 20404


def test_missing_required_parameter_is_named(sim):
    response = sim.post(f"{VERIFY}/Verifications", {"Channel": "sms"})
    assert response.status_code == 400
    assert response.json["code"] == 60200
    assert "`To`" in response.json["message"]


def test_malformed_path_parameter_is_refused_by_the_spec(sim):
    response = sim.post("/verify/v2/Services/VA123/Verifications", {"To": "+86138", "Channel": "sms"})
    assert response.status_code == 400
    assert "ServiceSid" in response.json["message"]


def test_enum_violation_is_named(sim, owned_number, sim_state):
    sid = sim_state.find_number(owned_number).sid
    response = sim.post(f"{API}/IncomingPhoneNumbers/{sid}.json", {"VoiceMethod": "PUT"})
    assert response.status_code == 400
    assert response.json["code"] == 20001
    assert "VoiceMethod" in response.json["message"]
    assert sim_state.find_number(owned_number).voice_method == "POST"


def test_wrong_type_is_named(sim, owned_number):
    response = sim.post(
        f"{API}/Messages.json",
        {"To": "+8613800138000", "From": owned_number, "Body": "hi", "MaxPrice": "cheap"},
    )
    assert response.status_code == 400
    assert "MaxPrice" in response.json["message"]


def test_wrong_query_type_is_named(sim):
    response = sim.get(f"{API}/IncomingPhoneNumbers.json?PageSize=lots")
    assert response.status_code == 400
    assert "PageSize" in response.json["message"]


def test_pages_need_no_credentials(raw_client):
    assert raw_client.get("/").status_code == 200
    assert raw_client.get("/phones").status_code == 200
    assert raw_client.get("/_sim/inbox/+8613800138000").status_code == 200


def test_account_sid_is_the_configured_one(sim):
    assert ACCOUNT_SID.startswith("AC")
    assert sim.get(f"{API}/Messages.json").status_code == 200
