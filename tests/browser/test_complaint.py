"""A complaint walked through two real browsers: the shopper proves their number, reports
harassment from the callback's status page; a staff member signs in, finds it in the queue,
reads the callback's timeline, and resolves it by suspending the store's number; the store page
then offers no callback."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from registry.callbacks.models import CallbackAttempt
from registry.callbacks.operations import CallbackPolicy, request_callback
from registry.calllog.operations import log_event
from registry.complaints.models import Complaint
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from tests.factories import (
    PASSWORD,
    make_binding,
    make_call_record,
    make_callable_merchant,
    make_proxy,
    make_shopper,
    make_user,
)

MERCHANT, SHOPPER, PROXY = "+8613800138000", "+8613700137000", "+8613900000001"
REAL_DIGITS = ("13800138000", "138 0013 8000", "13700137000", "137 0013 7000")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


def finished_callback(app):
    """A store, a shopper, and a completed callback: a binding, two legs and their status events."""
    store = make_callable_merchant(MERCHANT, name="Night Owl Tea")
    shopper = make_shopper(SHOPPER)
    request = request_callback(shopper, store.id, "asap", "A-1234", "About my order",
                               CallbackPolicy.from_config(app.config))
    make_proxy(PROXY)
    binding = make_binding(MERCHANT, SHOPPER, merchant_id=store.id)
    started = utcnow() - timedelta(minutes=5)
    request.created_at, request.binding_id = started - timedelta(seconds=30), binding.id
    legs = [make_call_record(store, from_number=PROXY, to_number=number, kind=kind,
                             callback_request_id=request.id)
            for number, kind in ((MERCHANT, "callback_merchant_leg"), (SHOPPER, "callback_shopper_leg"))]
    attempt = CallbackAttempt(request_id=request.id, seq=1, state="placed", proxy_number=PROXY,
                              created_at=started, placed_at=started + timedelta(seconds=1),
                              merchant_call_sid=legs[0].call_sid, shopper_call_sid=legs[1].call_sid)
    database.session.add(attempt)
    for leg in legs:
        leg.binding_id = binding.id
        for status in ("ringing", "in-progress", "completed"):
            log_event("status", {"status": status, "to_masked": leg.to_masked}, call_sid=leg.call_sid,
                      source="twilio")
        leg.status, leg.duration_seconds, leg.answered_at, leg.ended_at = "completed", 95, started, utcnow()
    attempt.state, attempt.outcome, attempt.ended_at = "ended", "completed", utcnow()
    request.status, request.ended_at = "completed", utcnow()
    database.session.commit()
    return store, request, legs[0].id


@pytest.mark.browser
def test_a_harassment_complaint_ends_in_a_suspension(browser, page, live_server, simulator, artifacts,
                                                     database_url, app):
    backend = database_url.split(":", 1)[0].split("+", 1)[0]

    def shot(tab, name):
        tab.screenshot(path=artifacts / f"complaint-{backend}-{name}.png", full_page=True)

    store, request, store_leg = finished_callback(app)
    staff_user = make_user("staff", email="agent@example.com")

    # The shopper proves their number and lands on the status page.
    page.goto(f"{live_server}/shopper/phone?next=/callbacks/{request.id}")
    page.get_by_label("Your phone number").fill("137 0013 7000")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
    page.get_by_label("Code").fill(simulator.state.last_code(SHOPPER))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your callback from Night Owl Tea")).to_be_visible()
    expect(page.locator("#status-text")).to_have_text("Completed")
    shot(page, "1-status")

    page.get_by_role("link", name="Report a problem with this callback").click()
    expect(page.get_by_role("heading", name="Report a problem")).to_be_visible()
    page.get_by_role("button", name="Send the report").click()  # nothing chosen, nothing said
    expect(page.locator("#category-error")).to_have_text("Choose what went wrong.")
    shot(page, "2-form-refused")
    page.get_by_label("Harassment: unwanted or repeated calls").check()
    page.get_by_label("What happened").fill("After the call the store kept calling me at night, five times.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("Thank you. Complaint staff will look into it")).to_be_visible()
    expect(page.locator("#status-text")).to_have_text("Completed")
    shot(page, "3-reported")

    complaint = database.session.query(Complaint).one()
    assert (complaint.category, complaint.callback_request_id) == ("harassment", request.id)

    # A staff member, in another browser, signs in on the way to the queue.
    staff_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    staff_context.set_default_timeout(10_000)
    try:
        staff = staff_context.new_page()
        staff.goto(f"{live_server}/staff/complaints?status=open")
        staff.get_by_label("Email").fill(staff_user.email)
        staff.get_by_label("Password").fill(PASSWORD)
        staff.get_by_role("button", name="Sign in").click()
        expect(staff.get_by_role("heading", name="Complaints")).to_be_visible()
        row = staff.locator("#complaints tbody tr").filter(has_text="Night Owl Tea")
        expect(row).to_have_count(1)
        shot(staff, "4-queue")
        row.get_by_role("link", name=re.compile("Harassment")).click()

        expect(staff.locator(".complaint-text")).to_have_text(
            "After the call the store kept calling me at night, five times.")
        staff.get_by_role("button", name="Assign to me").click()
        expect(staff.get_by_text("The complaint is assigned to you.")).to_be_visible()
        expect(staff.get_by_role("button", name="Assign to me")).to_have_count(0)
        shot(staff, "5-complaint")

        staff.get_by_role("link", name=f"Callback request #{request.id}: timeline").click()
        timeline = staff.locator("#timeline")
        expect(timeline).to_contain_text("Callback requested")
        expect(timeline).to_contain_text("Attempt 1 placed with Twilio")
        expect(staff.locator("#legs tbody tr")).to_have_count(2)
        expect(staff.locator("#bindings")).to_contain_text("+86 139 0000 0001")
        shot(staff, "6-timeline")
        for text in (staff.inner_text("body"), staff.content()):
            assert not any(digits in text for digits in REAL_DIGITS)

        # The store's leg: its number is masked until revealed for a reason.
        staff.locator("#legs").get_by_role("link", name=f"#{store_leg}", exact=True).click()
        expect(staff.locator("#to-number")).to_have_text("+86 138****8000")
        staff.get_by_label("Called (to)").check()
        staff.get_by_label("Reason").fill("Complaint: need the store's line")
        staff.get_by_role("button", name="Reveal the number").click()
        expect(staff.locator("#revealed-number")).to_have_text("+86 138 0013 8000")
        shot(staff, "7-revealed")
        staff.goto(staff.url)  # the page again (a GET): the number is not shown again
        expect(staff.locator("#revealed-number")).to_have_count(0)
        expect(staff.locator("#to-number")).to_have_text("+86 138****8000")

        staff.get_by_role("link", name="Calls").click()
        staff.get_by_label("Phone number").fill("137-0013-7000")
        staff.get_by_role("button", name="Search").click()
        expect(staff.locator("#results tbody tr")).to_have_count(1)
        expect(staff.locator("#results")).to_contain_text("+86 137****7000")
        shot(staff, "8-search")
        staff.get_by_label("Phone number").fill("137 abc")
        staff.get_by_role("button", name="Search").click()
        expect(staff.locator("#phone-error")).to_contain_text("may contain only digits")
        staff.goto(f"{live_server}/staff/complaints/{complaint.id}")

        staff.get_by_label("Suspend the store's number").check()
        staff.get_by_label("Resolution").fill("short")
        staff.get_by_role("button", name="Resolve the complaint").click()
        expect(staff.locator("#resolution-error")).to_contain_text("at least 10 characters")
        staff.get_by_label("Suspend the store's number").check()
        staff.get_by_label("Resolution").fill("Night calls after the callback confirmed in the log.")
        staff.get_by_role("button", name="Resolve the complaint").click()
        expect(staff.get_by_text("The complaint is resolved: Suspend the store's number.")).to_be_visible()
        shot(staff, "9-resolved")

        staff.get_by_role("link", name="Dashboard").click()
        expect(staff.locator("#chart-calls svg")).to_be_visible()
        shot(staff, "10-dashboard")
        staff.get_by_role("link", name="Audit log").click()
        expect(staff.locator("#audit")).to_contain_text("suspend")
        expect(staff.locator("#audit")).to_contain_text("Complaint: need the store's line")
        shot(staff, "11-audit")
    finally:
        staff_context.close()

    # The store page no longer offers a callback.
    page.goto(f"{live_server}/stores/{store.id}")
    expect(page.get_by_role("link", name="Call me back")).to_have_count(0)
    expect(page.get_by_text(re.compile("Callbacks are not available"))).to_be_visible()
    shot(page, "12-store")
