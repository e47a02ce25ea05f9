"""The gateway sends Twilio's requests only where configuration says."""

import pytest

from registry.telephony import ProviderError, RefusedHost, TelephonyGateway
from registry.telephony.routing import route_url


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://verify.twilio.com/v2/Services/VA1/Verifications", "http://sim:5001",
         "http://sim:5001/verify/v2/Services/VA1/Verifications"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", "http://sim:5001/",
         "http://sim:5001/api/2010-04-01/Accounts/AC1/Calls.json"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=2", "http://h/tw",
         "http://h/tw/api/2010-04-01/Accounts/AC1/Calls.json?Page=2"),
        ("https://verify.twilio.com/v2/Services", None, "https://verify.twilio.com/v2/Services"),
    ],
)
def test_rewrites_product_hosts(url, base, expected):
    assert route_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/v2/Services",
        "https://api.twilio.com.evil.example/2010-04-01",
        "https://conversations.twilio.com/v1/Conversations",
        "http://api.twilio.com/2010-04-01/Accounts",
        "https://twilio.com/",
    ],
)
@pytest.mark.parametrize("base", [None, "http://127.0.0.1:5001"])
def test_refuses_hosts_without_a_mapping(url, base):
    with pytest.raises(RefusedHost):
        route_url(url, base)


def test_gateway_reaches_the_simulator_through_the_real_sdk(simulator):
    from registry.core.config import (
        SIMULATOR_ACCOUNT_SID,
        SIMULATOR_AUTH_TOKEN,
        SIMULATOR_VERIFY_SERVICE_SID,
    )

    simulator.state.reset()
    gateway = TelephonyGateway(SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN,
                               SIMULATOR_VERIFY_SERVICE_SID, api_url=simulator.url)
    started = gateway.start_verification("+8613800138000", "sms")
    assert started.sid.startswith("VE") and started.status == "pending"
    assert not gateway.check_verification("+8613800138000", "000000" if simulator.state.last_code(
        "+8613800138000") != "000000" else "111111").approved
    assert gateway.check_verification("+8613800138000",
                                      simulator.state.last_code("+8613800138000")).approved

    proxy = simulator.state.add_incoming_number("+8613900000001")
    assert any(n["sid"] == proxy for n in gateway.list_incoming_numbers())
    gateway.configure_incoming_number(proxy, "https://app.example/v", "https://app.example/s")
    configured = {n["sid"]: n for n in gateway.list_incoming_numbers()}[proxy]
    assert configured["voice_url"] == "https://app.example/v"
    sid = gateway.send_sms("+8613900000001", "+8613800138000", "hello")
    assert sid.startswith("SM")
    assert simulator.state.inbox("+8613800138000")[-1].body == "hello"


def test_wrong_credentials_become_a_provider_error(simulator):
    gateway = TelephonyGateway("AC" + "0" * 32, "wrong", "VA" + "0" * 32, api_url=simulator.url)
    with pytest.raises(ProviderError) as caught:
        gateway.start_verification("+8613800138000", "sms")
    assert caught.value.status == 401 and not caught.value.retryable


def test_unreachable_twilio_is_a_retryable_provider_error():
    gateway = TelephonyGateway("AC" + "0" * 32, "t", "VA" + "0" * 32,
                               api_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(ProviderError) as caught:
        gateway.start_verification("+8613800138000", "sms")
    assert caught.value.retryable


def test_an_unreachable_twilio_is_named_by_the_address_tried():
    gateway = TelephonyGateway("AC" + "0" * 32, "t", "VA" + "0" * 32,
                               api_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(ProviderError) as caught:
        gateway.search_numbers("US", "local")
    assert "could not be reached at http://127.0.0.1:9" in str(caught.value)


def test_signatures_are_checked_with_the_auth_token():
    from twilio.request_validator import RequestValidator

    gateway = TelephonyGateway("AC" + "0" * 32, "secret-token", "VA" + "0" * 32)
    url, params = "https://app.example/webhooks/twilio/voice/incoming", {"From": "+1", "To": "+2"}
    good = RequestValidator("secret-token").compute_signature(url, params)
    assert gateway.signature_is_valid(url, params, good)
    assert not gateway.signature_is_valid(url + "x", params, good)
    assert not gateway.signature_is_valid(url, {**params, "To": "+3"}, good)
    assert not gateway.signature_is_valid(url, params, None)


def test_list_calls_with_wrong_credentials_are_a_provider_error(simulator):
    gateway = TelephonyGateway("AC" + "0" * 32, "wrong", "VA" + "0" * 32, api_url=simulator.url)
    with pytest.raises(ProviderError) as caught:
        gateway.list_incoming_numbers()
    assert caught.value.status == 401 and caught.value.code == 20003


def test_environment_settings_are_read_once_per_host(monkeypatch):
    """The SDK's session reads proxy settings per request; ours per host, with the same result."""
    import requests

    from registry.core.http_session import EnvironmentOnceSession

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "verify.twilio.com")
    session, plain = EnvironmentOnceSession(), requests.Session()
    for url in ("https://api.twilio.com/2010-04-01/Calls.json", "https://verify.twilio.com/v2/Services"):
        assert session.merge_environment_settings(url, {}, None, None, None) \
            == plain.merge_environment_settings(url, {}, None, None, None)
    monkeypatch.delenv("HTTPS_PROXY")
    again = session.merge_environment_settings("https://api.twilio.com/x", {}, None, None, None)
    assert again["proxies"].get("https") == "http://proxy.example:3128"
    again["proxies"].clear()  # a caller's copy: the next request still gets the settings
    assert session.merge_environment_settings("https://api.twilio.com/y", {}, None, None, None)["proxies"]


def test_the_gateway_keeps_connections_for_concurrent_calls():
    from registry.telephony.routing import POOL_SIZE

    gateway = TelephonyGateway("AC" + "0" * 32, "token", "VA" + "0" * 32, api_url="http://sim:5001")
    for prefix in ("https://", "http://"):
        assert gateway._http.session.get_adapter(prefix + "api.twilio.com")._pool_maxsize == POOL_SIZE
