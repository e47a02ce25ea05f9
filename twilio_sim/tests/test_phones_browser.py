"""The phones page in a real browser: a ringing call is answered with a click, typing survives refreshes."""

from __future__ import annotations

import pytest
import requests

from sim_support import ACCOUNT_SID, AUTH_TOKEN, OWNED_NUMBER
from twilio_sim.server import SimulatorServer

MERCHANT = "+8613800138000"
SHOPPER = "+8613900139000"

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_page(page):
    """The module's chromium (see `browser` in conftest.py: one Playwright at a time)."""
    return page


def test_answer_a_ringing_call_and_call_from_a_phone(sim_app, owned_number, sim_state, product,
                                                     chromium_page):
    sim_state.time_scale = 0.05
    sim_state.script(MERCHANT, answer_after=1)
    product.on("/voice", f'<Response><Dial callerId="{OWNED_NUMBER}" action="/done" timeout="600">'
                         f"<Number>{SHOPPER}</Number></Dial></Response>")
    product.on("/done", "<Response/>")
    page = chromium_page
    with SimulatorServer(sim_app) as server:
        page.goto(server.url + "/phones")
        created = requests.post(
            f"{server.url}/api/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
            data={"To": MERCHANT, "From": OWNED_NUMBER, "Url": product.url + "/voice"},
            auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5,
        )
        assert created.status_code == 201
        # The call shows up on its own, through the page's automatic refresh.
        ringing = page.locator(f'.ringing-call[data-phone="{SHOPPER}"]')
        ringing.wait_for(timeout=10_000)
        assert ringing.get_attribute("data-caller") == OWNED_NUMBER
        assert "Incoming call from +1 500-555-0006" in ringing.inner_text()
        ringing.locator(".answer").click()
        live = page.locator(f'.live-call[data-phone="{SHOPPER}"]')
        live.wait_for(timeout=5_000)
        live.locator(".hangup").click()
        sim_state.wait_idle(10)
        assert product.forms("/done")[0]["DialCallStatus"] == "completed"

        sim_state.find_number(OWNED_NUMBER).voice_url = product.url + "/incoming"
        product.on("/incoming", '<Response><Say>Hello caller.</Say><Pause length="600"/></Response>')
        # The "call from any phone" form appears with the page's own next refresh. Reloading
        # by hand instead would race that refresh, and chromium refuses a reload sent while
        # another navigation is committing ("Not attached to an active page").
        page.locator("input[name=from]").wait_for(timeout=10_000)
        page.fill("input[name=from]", "+8613700137000")
        page.wait_for_timeout(2_500)  # longer than the refresh period: the typing must survive
        assert page.input_value("input[name=from]") == "+8613700137000"
        page.click("button.call")
        heard = page.locator('.live-call[data-phone="+8613700137000"] .heard-line')
        heard.first.wait_for(timeout=10_000)
        assert heard.all_inner_texts() == ["Hello caller."]


def test_the_page_updates_in_place_and_spares_what_a_person_is_doing(sim_app, owned_number, sim_state,
                                                                       chromium_page):
    """New texts appear without a reload; a chosen number and a focused field stay as they are."""
    page = chromium_page
    sim_state.find_number(OWNED_NUMBER).voice_url = "http://127.0.0.1:9/voice"  # callable: the forms show
    sim_state.add_incoming_number("+15005550007", "Proxy 2")
    sim_state.find_number("+15005550007").voice_url = "http://127.0.0.1:9/voice"
    sim_state.deliver(SHOPPER, OWNED_NUMBER, "first text")
    with SimulatorServer(sim_app) as server:
        page.goto(server.url + "/phones")
        page.evaluate("window.notReloaded = true")
        select = page.locator(f'[data-phone="{SHOPPER}"] select[name=to]')
        select.select_option("+15005550007")
        page.fill("input[name=from]", "+8613700137")
        page.focus("input[name=from]")
        sim_state.deliver(SHOPPER, OWNED_NUMBER, "second text")
        sim_state.deliver(MERCHANT, OWNED_NUMBER, "a new phone")
        page.locator(f'[data-phone="{SHOPPER}"] .sms-body', has_text="second text").wait_for(timeout=10_000)
        page.locator(f'[data-phone="{MERCHANT}"] .sms-body').wait_for(timeout=10_000)
        assert page.evaluate("window.notReloaded") is True  # updated in place, never reloaded
        assert select.input_value() == "+15005550007"
        assert page.input_value("input[name=from]") == "+8613700137"
        assert page.evaluate("document.activeElement.name") == "from"
        # Nothing changes: the page is left alone (no element replaced).
        page.evaluate("document.querySelector('[data-key=\"phones\"]').dataset.mark = 'kept'")
        page.wait_for_timeout(2_500)
        assert page.evaluate("document.querySelector('[data-key=\"phones\"]').dataset.mark") == "kept"
