"""A merchant onboards in a real browser: sign up, create the store, add a
number, get the code from the simulated phone, verify, see the public page."""

import re

import pytest
from playwright.sync_api import expect

NUMBER = "+86 138 0013 8000"
E164 = "+8613800138000"
REAL_DIGITS = ("13800138000", "138 0013 8000")


@pytest.mark.browser
def test_merchant_onboarding_and_verification(page, live_server, simulator, artifacts, database_url):
    backend = database_url.split(":", 1)[0].split("+", 1)[0]

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Set up your store")).to_be_visible()
    page.get_by_label("Store name").fill("Ming's Tea")
    page.get_by_label("Saturday, opens at").first.fill("10:00")
    page.get_by_label("Saturday, closes at").first.fill("16:00")
    page.get_by_role("button", name="Create store").click()

    expect(page.get_by_role("heading", name="Add a number")).to_be_visible()
    page.get_by_label("Phone number").fill("+86 138abc")
    page.get_by_role("button", name="Add number").click()
    expect(page.locator("#number-error")).to_contain_text("may contain only digits")
    page.get_by_label("Phone number").fill(NUMBER)
    page.get_by_label("Label (optional)").fill("Shop phone")
    page.get_by_role("button", name="Add number").click()

    expect(page.get_by_role("heading", name="Verify your number")).to_be_visible()
    expect(page.get_by_text("by text message (SMS)")).to_be_visible()
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_text(f"We sent a code by text message to {NUMBER}.")).to_be_visible()
    resend = page.get_by_role("button", name="Send a new code")
    expect(resend).to_be_disabled()
    seconds = page.locator("#resend-wait [data-seconds]")
    first = int(seconds.inner_text())
    assert 50 <= first <= 60
    expect(seconds).not_to_have_text(str(first), timeout=3_000)
    assert int(seconds.inner_text()) < first
    page.screenshot(path=artifacts / f"onboarding-{backend}-1-code-sent.png", full_page=True)
    verify_url = page.url

    page.goto(f"{simulator.url}/")
    sms = page.locator(f'[data-phone="{E164}"] .sms-body').first
    code = re.search(r"\b(\d{6})\b", sms.inner_text()).group(1)
    page.go_back()
    assert page.url == verify_url

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text(f"{NUMBER} is verified.")).to_be_visible()
    expect(page.locator(".number .badge-verified")).to_have_text("Verified")
    page.screenshot(path=artifacts / f"onboarding-{backend}-2-dashboard.png", full_page=True)

    page.get_by_role("link", name="See your public store page").click()
    expect(page.get_by_role("heading", name="Ming's Tea")).to_be_visible()
    expect(page.locator(".store-header .badge")).to_have_text("✓ Verified")
    expect(page.get_by_text("Callbacks are available")).to_be_visible()
    for text in (page.inner_text("body"), page.content()):
        assert not any(digits in text for digits in REAL_DIGITS)
        assert "Shop phone" not in text
    page.screenshot(path=artifacts / f"onboarding-{backend}-3-store.png", full_page=True)

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator(".store-header .badge")).to_have_text("✓ 已认证")
    expect(page.get_by_role("row", name=re.compile("星期六"))).to_contain_text("10:00–16:00")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts / f"onboarding-{backend}-4-store-zh-mobile.png", full_page=True)
