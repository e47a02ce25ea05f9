"""How webhooks travel: one kept-alive connection per app, the request requests would send, no cookies.

The sender keeps connections to the app open between webhooks (a new
connection per webhook cost more CPU than the rest of a call). These tests
pin down what that must not change: the request the app receives, the
response the call engine reads, the errors recorded, and that a state reset
lets go of connections to an app that may be gone.
"""

from __future__ import annotations

import gzip
import socket
import threading
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from sim_support import AUTH_TOKEN

PARAMS = {"CallSid": "CA" + "1" * 32, "CallStatus": "busy", "To": "+8613800000001"}


class App:
    """An HTTP/1.1 server that keeps connections open (werkzeug's closes every one), noting per
    request the client's port: one port, one connection."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        app = self
        self.seen: list[dict] = []
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode())) if length else {}
                with app.lock:
                    app.seen.append({"port": self.client_address[1], "headers": dict(self.headers),
                                     "url": app.url + self.path, "form": form})
                path = self.path.split("?")[0]
                if path == "/gzip":
                    body = gzip.compress("<Response><Say>héllo</Say></Response>".encode())
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Encoding", "gzip")
                else:
                    body = b""
                    self.send_response(204)
                    self.send_header("Set-Cookie", "session=from-the-app; Path=/")
                    if path == "/close":
                        self.send_header("Connection", "close")
                        self.close_connection = True
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def app_server():
    server = App()
    yield server
    server.stop()


@pytest.fixture
def sender(sim_app):
    return sim_app.extensions["twilio_simulator"].webhooks


def test_webhooks_share_one_connection_and_carry_what_requests_sent(sender, app_server):
    records = [sender.send(f"{app_server.url}/status?n={n}", PARAMS) for n in range(3)]

    assert [record.status_code for record in records] == [204, 204, 204]
    assert len({seen["port"] for seen in app_server.seen}) == 1
    validator = RequestValidator(AUTH_TOKEN)
    for n, seen in enumerate(app_server.seen):
        assert seen["url"] == f"{app_server.url}/status?n={n}"
        assert seen["form"] == PARAMS
        assert validator.validate(seen["url"], seen["form"], seen["headers"]["X-Twilio-Signature"])
        headers = seen["headers"]
        assert headers["User-Agent"] == "TwilioProxy/1.1"
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert headers["Accept-Encoding"] == "gzip, deflate"
        assert headers["I-Twilio-Idempotency-Token"]
    tokens = {seen["headers"]["I-Twilio-Idempotency-Token"] for seen in app_server.seen}
    assert len(tokens) == 3


def test_cookies_the_app_sets_are_not_sent_back(sender, app_server):
    sender.send(f"{app_server.url}/status", PARAMS)
    sender.send(f"{app_server.url}/status", PARAMS)

    assert [("Cookie" in seen["headers"]) for seen in app_server.seen] == [False, False]


def test_a_get_webhook_carries_its_parameters_in_the_signed_url(sender, app_server):
    record = sender.send(f"{app_server.url}/status?a=1", PARAMS, method="GET")

    assert record.status_code == 204
    seen = app_server.seen[0]
    assert seen["url"] == record.url and "CallStatus=busy" in seen["url"]
    assert RequestValidator(AUTH_TOKEN).validate(seen["url"], {}, seen["headers"]["X-Twilio-Signature"])


def test_a_compressed_answer_reads_as_requests_would_read_it(sender, app_server):
    record, response = sender.request(f"{app_server.url}/gzip", PARAMS)

    assert record.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text == "<Response><Say>héllo</Say></Response>"


def test_a_connection_the_app_closes_is_not_used_again(sender, app_server):
    sender.send(f"{app_server.url}/close", PARAMS)
    record = sender.send(f"{app_server.url}/status", PARAMS)

    assert record.status_code == 204
    assert len({seen["port"] for seen in app_server.seen}) == 2


def test_a_state_reset_lets_go_of_kept_connections(sender, sim_state, app_server):
    sender.send(f"{app_server.url}/status", PARAMS)
    sim_state.reset()
    sender.send(f"{app_server.url}/status", PARAMS)

    assert len({seen["port"] for seen in app_server.seen}) == 2


def test_a_refused_connection_is_recorded_with_requests_error(sender, sim_state):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once closed

    record = sender.send(f"http://127.0.0.1:{port}/status", PARAMS)

    assert record.status_code is None
    assert record.error.startswith(f"ConnectionError: HTTPConnectionPool(host='127.0.0.1', port={port})")
    assert sim_state.webhook_log() == [record]
