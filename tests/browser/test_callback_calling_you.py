"""The status page while the call is under way, in a real browser: "Calling the store…"
while the store's phone rings, then "Calling you now…" while the simulator holds the
shopper's phone ringing (the store pressed 1), "Connected" once the shopper picks up and
"Completed" when they hang up; the page follows by itself, with no reload."""

import re

import pytest
from playwright.sync_api import expect

from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.core.extensions import db as database
from tests.browser.test_callback import voice_simulator_ready
from tests.factories import make_callable_merchant, make_proxy, make_shopper

MERCHANT, SHOPPER, PROXY = "+8613800138000", "+8613700137000", "+8613900000001"


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0, "RECORD_CALLS": False}


def ringing_leg(simulator, phone: str) -> str | None:
    """The SID of the call ringing at `phone`, if there is one."""
    return next((c.sid for c in simulator.state.calls_for_phone(phone) if c.status == "ringing"), None)


@pytest.mark.browser
def test_the_status_page_says_calling_you_now_while_the_shoppers_phone_rings(
        page, live_server, simulator, artifacts, database_url, app):
    if not voice_simulator_ready(simulator):
        pytest.skip("the simulator does not play voice calls by script")
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    shot = lambda name: page.screenshot(path=artifacts / f"calling-you-{backend}-{name}.png",  # noqa: E731
                                        full_page=True)
    store = make_callable_merchant(MERCHANT, name="Ming's Tea")
    request = request_callback(make_shopper(SHOPPER), store.id, "asap", None, None,
                               CallbackPolicy.from_config(app.config))
    make_proxy(PROXY)
    simulator.state.add_incoming_number(PROXY)
    database.session.commit()

    # The shopper proves their number and lands on the status page.
    page.goto(f"{live_server}/shopper/phone?next=/callbacks/{request.id}")
    page.get_by_label("Your phone number").fill("137 0013 7000")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
    page.get_by_label("Code").fill(simulator.state.last_code(SHOPPER))
    page.get_by_role("button", name="Confirm").click()
    status = page.locator("#status-text")
    expect(status).to_have_text(re.compile(r"^Scheduled for .+"))

    # The store's phone rings for a while before it answers; the shopper's rings until
    # the test picks it up, as a person on the phones page would.
    simulator.state.script(MERCHANT, outcome="answer", answer_after=4, digits="1")
    simulator.state.script(SHOPPER, outcome="manual")
    from registry.scheduler import tick

    assert tick(app)["dispatch-callbacks"] == {"placed": 1}
    expect(status).to_have_text("Calling the store…", timeout=15_000)
    expect(page.locator("#callback-state")).to_have_attribute("data-phase", "calling_store")
    shot("1-calling-the-store")

    expect(status).to_have_text("Calling you now…", timeout=30_000)
    expect(page.get_by_text("Your phone is ringing now")).to_be_visible()
    sid = ringing_leg(simulator, SHOPPER)
    assert sid is not None, "the shopper's phone should still be ringing"
    shot("2-calling-you-now")

    assert simulator.state.answer(sid)
    expect(status).to_have_text("Connected", timeout=15_000)
    simulator.state.hangup(sid)
    expect(status).to_have_text("Completed", timeout=15_000)
    shot("3-completed")
