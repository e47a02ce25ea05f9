"""Fixtures for the Twilio simulator's tests: one fresh simulator per test, and a browser.

The tests stand alone: they need the simulator and its test dependencies,
nothing of the product that uses it (`sim_support` plays the product).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    OWNED_NUMBER,
    SERVICE_SID,
    FakeClock,
    Product,
    Receiver,
    SimClient,
)
from twilio_sim import SimulatorState, create_simulator_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim_state(clock) -> SimulatorState:
    state = SimulatorState(clock=clock)
    return state


@pytest.fixture
def sim_app(sim_state):
    app = create_simulator_app(ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, state=sim_state)
    app.config["TESTING"] = True
    yield app
    # Let any callback thread finish before the next test starts, and stop
    # calls a test left running (a reset ends them quietly).
    app.extensions["twilio_simulator"].webhooks.join()
    sim_state.reset()
    app.extensions["twilio_simulator"].voice.wait_idle(5)


@pytest.fixture
def sim(sim_app) -> SimClient:
    return SimClient(sim_app)


@pytest.fixture
def raw_client(sim_app):
    """A test client with no credentials."""
    return sim_app.test_client()


@pytest.fixture
def owned_number(sim_state) -> str:
    sim_state.add_incoming_number(OWNED_NUMBER, "Proxy 1")
    return OWNED_NUMBER



@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def product():
    product = Product()
    yield product
    product.stop()


@pytest.fixture
def voice(sim_state, sim_app, owned_number):
    """Calls on a fast clock: a simulated second lasts 10 ms."""
    sim_state.time_scale = 0.01
    return sim_state




# Module scope, not session: Playwright's sync API runs one instance per thread at a time, and
# the product's tests, when run in the same session after these (`testpaths` lists this folder
# first), start their own session-wide chromium.
@pytest.fixture(scope="module")
def browser():
    """A headless Debian chromium, shared by one module's browser tests."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing: browser tests must run")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh English-speaking browser tab (its own cookies)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
