"""When "as soon as possible" is not now, the request form and the status page say when
the call comes and why, and the status JSON carries the reason's code."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from registry.callbacks.models import CallbackRequest
from tests.callbacks.test_views import ZH, ask, sign_in, text_of
from tests.factories import make_callable_merchant, make_shopper

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_from_now(zone: ZoneInfo, ahead: int = 2) -> tuple[str, str]:
    """A one-hour range starting `ahead` hours from now in `zone` (so now is outside it)."""
    start = (datetime.now(zone).hour + ahead) % 24
    return f"{start:02d}:00", "24:00" if start == 23 else f"{start + 1:02d}:00"


def call_hours_later() -> dict:
    start, end = hours_from_now(SHANGHAI)
    return {"SHOPPER_CALL_HOURS": f"{start}-{end}"}


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


WHEN = r"We will call you at \d\d:00 (today|tomorrow) \(your time\)"


@pytest.mark.parametrize("app_overrides", [call_hours_later()])
def test_outside_the_shoppers_calling_hours_the_form_and_status_say_so(client, db, app):
    store = make_callable_merchant()  # open around the clock
    sign_in(client, make_shopper())
    start = app.config["SHOPPER_CALL_HOURS"][:5]
    form = text_of(client.get(f"/stores/{store.id}/callback").text)
    assert re.search(rf"{WHEN}: we do not call (before|after) \d\d:00 your time\.", form), form
    assert f"{start} " in form.split("We will call you at")[1][:8]
    zh = text_of(client.get(f"/stores/{store.id}/callback", headers=ZH).text)
    assert re.search(r"我们将在(今天|明天) \d\d:00（您的时间）给您回电："
                     r"您当地时间 \d\d:00 以(前|后)我们不打电话。", zh)

    location = ask(client, store.id).headers["Location"]
    request = db.session.query(CallbackRequest).one()
    status = text_of(client.get(location).text)
    assert re.search(rf"{WHEN}: we do not call (before|after) \d\d:00 your time\.", status), status
    assert client.get(f"/api/v1/callbacks/{request.id}").json["waiting_reason"] == "outside_call_hours"


def test_a_closed_store_says_when_it_opens_in_the_shoppers_time(client, db):
    london = ZoneInfo("Europe/London")
    start, end = hours_from_now(london)
    store = make_callable_merchant(hours={d: [[start, end]] for d in DAYS})
    store.timezone = "Europe/London"
    db.session.commit()
    sign_in(client, make_shopper())  # Asia/Shanghai; SHOPPER_CALL_HOURS 00:00-24:00 here
    opens = datetime.now(london).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    shown = opens.astimezone(SHANGHAI).strftime("%H:%M")
    form = text_of(client.get(f"/stores/{store.id}/callback").text)
    assert f"the store opens at {shown} (your time)." in form, form
    zh = text_of(client.get(f"/stores/{store.id}/callback", headers=ZH).text)
    assert f"店铺 {shown}（您的时间）开门。" in zh

    location = ask(client, store.id).headers["Location"]
    request = db.session.query(CallbackRequest).one()
    assert f"the store opens at {shown} (your time)." in text_of(client.get(location).text)
    assert client.get(f"/api/v1/callbacks/{request.id}").json["waiting_reason"] == "store_closed"


def test_a_call_that_can_come_now_gives_no_reason(client, db):
    store = make_callable_merchant()
    sign_in(client, make_shopper())
    form = client.get(f"/stores/{store.id}/callback").text
    assert "right away" in form and "We will call you at" not in form
    location = ask(client, store.id).headers["Location"]
    request = db.session.query(CallbackRequest).one()
    assert "We will call you at" not in client.get(location).text
    assert client.get(f"/api/v1/callbacks/{request.id}").json["waiting_reason"] is None
