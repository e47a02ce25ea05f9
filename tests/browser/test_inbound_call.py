"""In the browser: a shopper calls the proxy number from the simulator's phones page;
the merchant's phone rings showing the proxy number, never the shopper's."""

import pytest

from registry.calllog.models import CallRecord
from registry.masking.pool import sync_with_provider
from registry.telephony import get_gateway
from tests.factories import make_binding, make_proxy

PROXY, MERCHANT, SHOPPER = "+8613900000001", "+8613800138000", "+8613700137000"


@pytest.mark.browser
def test_inbound_call_rings_the_merchant_with_the_proxy_as_caller_id(app, db, live_server, simulator,
                                                                   page, artifacts):
    simulator.state.add_incoming_number(PROXY)
    make_proxy(PROXY)
    sync_with_provider(get_gateway(), live_server)
    make_binding(MERCHANT, SHOPPER)
    db.session.commit()

    page.goto(simulator.url + "/")
    page.fill("form.new-call input[name=from]", SHOPPER)
    page.select_option("form.new-call select[name=to]", PROXY)
    page.click("form.new-call button.call")

    ringing = page.locator(f'.ringing-call[data-phone="{MERCHANT}"]')
    ringing.wait_for(timeout=10_000)
    assert ringing.get_attribute("data-caller") == PROXY
    assert "137 0013 7000" not in ringing.inner_text() and "13700137000" not in ringing.inner_text()
    page.screenshot(path=str(artifacts / "inbound-call-ringing.png"), full_page=True)

    ringing.locator("button.answer").click()
    page.locator(f'.live-call[data-phone="{MERCHANT}"]').wait_for(timeout=10_000)
    page.locator(f'.live-call[data-phone="{MERCHANT}"] button.hangup').click()
    simulator.state.wait_idle(timeout=10)
    db.session.expire_all()
    leg = db.session.query(CallRecord).filter(CallRecord.to_masked == "+86 138****8000").one()
    assert leg.status == "completed" and leg.kind == "relay"
