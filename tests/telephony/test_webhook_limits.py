"""Twilio's webhooks are never rate limited per client address (registry/core/extensions.py)."""

import pytest

from tests.factories import make_binding, make_proxy, signed_post

PROXY, MERCHANT, SHOPPER = "+8613900000001", "+8613800138000", "+8613700137000"


@pytest.fixture
def app_overrides(monkeypatch):
    """Limits on, with a default every other endpoint is held to.

    The limiter is one object for every app, and it keeps the first default limits any app
    configured: they are put back afterwards, so no later test inherits them."""
    from registry.core.extensions import limiter

    monkeypatch.setattr(limiter.limit_manager, "_default_limits", list(limiter.limit_manager._default_limits))
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "2 per minute"}


def test_calls_from_one_address_are_connected_whatever_the_limits(client, db):
    make_proxy(PROXY)
    make_binding(MERCHANT, SHOPPER)
    for n in range(4):
        response = signed_post(client, "/webhooks/twilio/voice/incoming", {
            "CallSid": f"CA{n:032d}", "From": SHOPPER, "To": PROXY, "CallStatus": "ringing"})
        assert response.status_code == 200 and b"<Dial" in response.data
    # The same address is held to the default limit elsewhere.
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
