"""A slot outside the shopper's allowed calling hours (08:00-21:00 their time) is refused."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from registry.callbacks.models import CallbackRequest
from tests.factories import bearer, make_callable_merchant, make_shopper, make_shopper_token


@pytest.fixture
def app_overrides():
    return {}  # the default SHOPPER_CALL_HOURS, 08:00-21:00


def test_a_slot_at_3am_shopper_time_is_refused_even_if_the_store_is_open(client, db):
    store = make_callable_merchant()  # open around the clock
    headers = bearer(make_shopper_token(make_shopper("+8613700137000")))  # Asia/Shanghai
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    response = client.post(f"/api/v1/merchants/{store.id}/callbacks", headers=headers, json={
        "when": {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()}})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "outside_hours" and "08:00-21:00" in error["message"]
    assert db.session.query(CallbackRequest).count() == 0
    # The same slot at 10:00 their time is fine.
    start = start.replace(hour=10)
    ok = client.post(f"/api/v1/merchants/{store.id}/callbacks", headers=headers, json={
        "when": {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()}})
    assert ok.status_code == 201
