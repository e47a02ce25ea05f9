"""The pages' scripts under the Content-Security-Policy, in chromium: the callback status
page's live polling and the resend countdown still work, and nothing is blocked."""

import pytest
from playwright.sync_api import expect

from registry.callbacks.models import CallbackRequest
from registry.core.extensions import db as database
from tests.factories import (
    PASSWORD,
    make_callable_merchant,
    make_merchant,
    make_number,
    make_shopper,
    make_user,
)

# Recorded in every document before its own scripts run (Playwright injects it outside the CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "VERIFY_RESEND_SECONDS": 3}


@pytest.fixture
def watched(page):
    """The page, and the CSP violations its documents and console report."""
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script(WATCH_CSP)

    def violations() -> list[str]:
        return [*page.evaluate("window.__csp || []"), *console]

    return page, violations


@pytest.mark.browser
def test_the_callback_status_page_polls_under_the_csp(watched, live_server, app, client):
    page, violations = watched
    store = make_callable_merchant()
    shopper = make_shopper()
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id
    asked = client.post(f"/stores/{store.id}/callback", data={"when": "asap"})
    assert asked.status_code == 302
    # The browser is the same shopper: their signed session cookie.
    cookie = app.session_interface.get_signing_serializer(app).dumps({"shopper_id": shopper.id})
    page.context.add_cookies([{"name": "session", "value": cookie, "url": live_server}])

    page.goto(live_server + asked.headers["Location"])
    status = page.locator("#status-text")
    expect(status).not_to_have_text("Canceled")
    request_id = int(asked.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    database.session.get(CallbackRequest, request_id).status = "canceled"
    database.session.commit()
    # The script notices the change through the JSON API and redraws the state by itself.
    expect(status).to_have_text("Canceled", timeout=10_000)
    assert violations() == []


@pytest.mark.browser
def test_the_resend_countdown_runs_under_the_csp(watched, live_server, app):
    page, violations = watched
    owner = make_user("merchant")
    number = make_number(make_merchant(owner))
    number_id, email = number.id, owner.email
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/merchant/numbers/{number_id}")
    page.get_by_role("button", name="Send code").click()
    resend = page.get_by_role("button", name="Send a new code")
    expect(resend).to_be_disabled()
    expect(page.locator("#resend-wait")).to_be_visible()
    expect(resend).to_be_enabled(timeout=8_000)  # the countdown ran out and re-enabled it
    expect(page.locator("#resend-wait")).to_be_hidden()
    assert violations() == []
    # And the watch does see a violation: an inline script is refused.
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in violations())
