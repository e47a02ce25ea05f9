"""Fixtures: `app`, `client`, `db` per backend, the simulator, factories.

Every test that uses `app` runs on SQLite, and on PostgreSQL too when
`TEST_DATABASE_URL` is set. Under CI (`CI=true`) a missing or unreachable
PostgreSQL is an error, never a silent skip. Each backend's schema is
created once per session; after each test every table is emptied, which
also works for tests whose server runs in another thread (the simulator's
callbacks, the browser tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from registry import create_app
from registry.core.config import (
    SIMULATOR_ACCOUNT_SID,
    SIMULATOR_AUTH_TOKEN,
    SIMULATOR_VERIFY_SERVICE_SID,
)
from registry.core.extensions import db as _db
from tests.openapi_check import check_response

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATA_KEY = "test-data-key-0123456789abcdefghijklmnopqrstuvwxyz"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


def pytest_sessionstart(session):
    if IN_CI and not TEST_DATABASE_URL:
        pytest.exit("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run", 2)
    if TEST_DATABASE_URL:
        try:
            with sa.create_engine(TEST_DATABASE_URL).connect() as conn:
                conn.execute(sa.text("select 1"))
        except sa.exc.OperationalError as exc:
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {exc}", 2)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def simulator():
    """The Twilio simulator, served over HTTP for the whole session."""
    from twilio_sim import SimulatorState, create_simulator_app
    from twilio_sim.server import SimulatorServer

    state = SimulatorState()
    sim_app = create_simulator_app(
        SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, SIMULATOR_VERIFY_SERVICE_SID,
        public_base_url="http://127.0.0.1:5000", state=state,
    )
    with SimulatorServer(sim_app) as server:
        server.state = state
        yield server


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, and whose every JSON answer
    from /api/v1 is checked against the OpenAPI document (`tests.openapi_check`).

    Tests hold an app context for factories and assertions; without this a
    request would reuse it, and so the test's database session, and see
    what a real request could not (uncommitted rows, stale objects).
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        check_response(self.application, response)
        return response


def make_test_app(database_url: str, simulator_url: str, instance_path: Path, **overrides):
    config = {
        "REGISTRY_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATA_KEY": TEST_DATA_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SIMULATOR_AUTH_TOKEN,
        "TWILIO_VERIFY_SERVICE_SID": SIMULATOR_VERIFY_SERVICE_SID,
        "TWILIO_API_URL": simulator_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    os.environ.setdefault("REGISTRY_ENV", "testing")
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.instance_path = str(instance_path)
    return app


_schemas_ready: set[str] = set()


def _ensure_schema(app, url: str) -> None:
    if url in _schemas_ready:
        return
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    _schemas_ready.add(url)


def _empty_tables(app) -> None:
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
        _db.engine.dispose()


@pytest.fixture(params=backends())
def database_url(request, sqlite_url) -> str:
    return sqlite_url if request.param == "sqlite" else TEST_DATABASE_URL


@pytest.fixture
def app_overrides() -> dict:
    """Config a test module wants changed; override this fixture to set some."""
    return {}


@pytest.fixture
def app(database_url, simulator, tmp_path, app_overrides):
    simulator.state.reset()
    app = make_test_app(database_url, simulator.url, tmp_path, **app_overrides)
    _ensure_schema(app, database_url)
    with app.app_context():
        yield app
    _empty_tables(app)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def live_server(app):
    """The test's app on a free local port, and `PUBLIC_BASE_URL` pointing at it,
    so the simulator's signed webhooks reach it. Each request, handled in its
    own thread, pushes its own app context, as under any WSGI server."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True, name="live-server")
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def fast_calls(simulator):
    """Simulated call time at 1/100 of real time, restored afterwards."""
    previous = simulator.state.time_scale
    simulator.state.time_scale = 0.01
    yield simulator.state
    simulator.state.wait_idle(timeout=10)
    simulator.state.time_scale = previous


# Browser tests: one Playwright and one chromium for the whole session.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """A headless chromium, shared by the session's browser tests."""
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


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
