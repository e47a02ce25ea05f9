"""Fixtures for the Twilio simulator's tests: one fresh simulator per test."""

from __future__ import annotations

import base64
import threading

import pytest

from registry.simulator import SimulatorState, create_simulator_app

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "simulator-test-token"
SERVICE_SID = "VA" + "fedcba9876543210" * 2
OWNED_NUMBER = "+15005550006"

VERIFY = f"/verify/v2/Services/{SERVICE_SID}"
API = f"/api/2010-04-01/Accounts/{ACCOUNT_SID}"


class FakeClock:
    """A clock tests move by hand: `clock.advance(601)` expires a code."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def basic_auth(user: str = ACCOUNT_SID, password: str = AUTH_TOKEN) -> dict:
    """An Authorization header as the Twilio SDK sends it."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class SimClient:
    """The simulator app's test client, authenticated as the account."""

    def __init__(self, app):
        self.client = app.test_client()

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data=data or {}, headers=basic_auth(), **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=basic_auth(), **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=basic_auth(), **kwargs)

    def send_code(self, to: str, channel: str = "sms"):
        return self.post(f"{VERIFY}/Verifications", {"To": to, "Channel": channel})

    def check_code(self, to: str, code: str):
        return self.post(f"{VERIFY}/VerificationCheck", {"To": to, "Code": code})


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
    # Let any callback thread finish before the next test starts.
    app.extensions["twilio_simulator"].webhooks.join()


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


class Receiver:
    """A tiny HTTP server standing in for the app's webhook endpoints."""

    def __init__(self):
        from werkzeug.serving import make_server

        self.requests: list[dict] = []
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _wsgi(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        record = {
            "url": request.url,
            "form": request.form.to_dict(),
            "signature": request.headers.get("X-Twilio-Signature"),
        }
        with self.arrived:
            self.requests.append(record)
            self.arrived.notify_all()
        return Response("", status=204)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()
