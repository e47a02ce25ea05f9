"""Fixtures for callbacks played end to end through the simulator."""

import pytest

from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.core.extensions import db as _db
from registry.masking.pool import sync_with_provider
from registry.telephony import get_gateway
from tests.factories import make_callable_merchant, make_proxy, make_shopper

PROXY, MERCHANT, SHOPPER = "+8613900000001", "+8613800138000", "+8613700137000"


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0, "RECORD_CALLS": False}


@pytest.fixture
def phones(app, db, live_server, fast_calls):
    """The simulated account owns the proxy number, wired to the live app."""
    fast_calls.add_incoming_number(PROXY)
    make_proxy(PROXY)
    sync_with_provider(get_gateway(), live_server)
    db.session.commit()
    return fast_calls


@pytest.fixture
def callback(app, db, phones):
    """An as-soon-as-possible request from SHOPPER to a store reachable on MERCHANT."""
    store = make_callable_merchant(MERCHANT)
    shopper = make_shopper(SHOPPER)
    request = request_callback(shopper, store.id, "asap", "A-77", None,
                               CallbackPolicy.from_config(app.config))
    _db.session.commit()
    return request
