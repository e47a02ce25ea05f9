"""A shopper asks for a callback in a real browser: the store page's button,
their number, the code from the simulated phone, "as soon as possible",
then the status page following the call by itself to "Completed"."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_callable_merchant, make_proxy

MERCHANT = "+8613800138000"
SHOPPER = "+8613700137000"
PROXY = "+8613900000001"
MERCHANT_DIGITS = ("13800138000", "138 0013 8000")


@pytest.fixture
def app_overrides():
    # "As soon as possible" is now whatever the hour; calls are placed without throttling.
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0}


def voice_simulator_ready(simulator) -> bool:
    """Whether the simulator plays calls by script (`state.script`)."""
    try:
        from twilio_sim.scripts import CallScript  # noqa: F401
    except ImportError:
        return False
    return callable(getattr(simulator.state, "script", None))


@pytest.mark.browser
def test_callback_from_the_store_page_to_completed(page, live_server, simulator, artifacts, database_url,
                                                   app):
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    shot = lambda name: page.screenshot(path=artifacts / f"callback-{backend}-{name}.png",  # noqa: E731
                                        full_page=True)
    store = make_callable_merchant(MERCHANT, name="Ming's Tea")
    app.config["PUBLIC_BASE_URL"] = live_server  # where the simulator posts Twilio's webhooks

    page.goto(f"{live_server}/stores/{store.id}")
    shot("0-store")
    page.get_by_role("link", name="Call me back").click()

    expect(page.get_by_role("heading", name="Which number should we call?")).to_be_visible()
    page.get_by_label("Your phone number").fill("137 abc")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator("#phone-error")).to_contain_text("may contain only digits")
    shot("1-phone-refused")
    page.get_by_label("Your phone number").fill("137 0013 7000")
    page.get_by_role("button", name="Send me a code").click()

    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
    expect(page.get_by_text("We sent a code by text message to +86 137 0013 7000.")).to_be_visible()
    expect(page.get_by_role("button", name="Send a new code")).to_be_disabled()
    shot("2-code")
    code_url = page.url
    page.goto(f"{simulator.url}/")
    sms = page.locator(f'[data-phone="{SHOPPER}"] .sms-body').first
    code = re.search(r"\b(\d{6})\b", sms.inner_text()).group(1)
    page.go_back()
    assert page.url == code_url
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="When should Ming's Tea call you?")).to_be_visible()
    expect(page.get_by_text("Your number +86 137****7000 is confirmed.")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("As soon as possible"))).to_be_checked()
    expect(page.get_by_text("Times are in your time zone, Shanghai, UTC+08:00.")).to_be_visible()
    page.locator(".slot-day summary", has_text="Tomorrow").click()
    expect(page.get_by_role("radio", name=re.compile(r"^Tomorrow, .*, 10:00–10:30$"))).to_be_visible()
    page.get_by_label("Order number (optional)").fill("A-1234")
    page.get_by_label("Note for the store (optional)").fill("About the green tea I ordered")
    shot("3-when")
    page.get_by_role("button", name="Call me back").click()

    expect(page.get_by_role("heading", name="Your callback from Ming's Tea")).to_be_visible()
    status = page.locator("#status-text")
    scheduled = r"Scheduled for .+ \(Shanghai, UTC\+08:00\)"
    expect(status).to_have_text(re.compile(rf"^({scheduled}|Calling the store…)$"))
    expect(page.get_by_role("button", name="Cancel this callback")).to_be_visible()
    for text in (page.inner_text("body"), page.content()):
        assert not any(digits in text for digits in MERCHANT_DIGITS)
    shot("4-scheduled")

    if not voice_simulator_ready(simulator):
        pytest.skip("the simulator does not play voice calls by script yet")
    from registry.scheduler import tick

    # The store picks up, hears who asks and presses 1; the shopper answers, talks, hangs up.
    # (The store's script keeps the line: a scripted press comes after the spoken prompt,
    # which is longer than a few simulated seconds.)
    simulator.state.script(MERCHANT, outcome="answer", answer_after=0.5, digits="1")
    simulator.state.script(SHOPPER, outcome="answer", answer_after=0.5, hangup_after=3)
    make_proxy(PROXY)
    simulator.state.add_incoming_number(PROXY)
    result = tick(app)
    assert result["dispatch-callbacks"] == {"placed": 1}, result

    # The page follows the call by itself: no reload from the test.
    expect(status).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#attempt-count")).to_have_text("1")
    expect(page.locator(".attempts")).to_contain_text("you talked with the store")
    expect(page.get_by_text("+86 139 0000 0001")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel this callback")).to_have_count(0)
    for text in (page.inner_text("body"), page.content()):
        assert not any(digits in text for digits in MERCHANT_DIGITS)
    shot("5-completed")

    page.get_by_role("link", name="简体中文").click()
    expect(status).to_have_text("已完成")
    page.set_viewport_size({"width": 390, "height": 844})
    shot("6-completed-zh-mobile")
