"""The Twilio simulator, as the benchmarks use it: the only place in bench/ that imports it.

`serve()` runs it in this process with `CallsRecorder` in front, which
timestamps every `POST .../Calls.json` as it arrives and reads the attempt
id from its `Url`, so each Twilio request is tied to its callback attempt.
`validation` is the simulator's OpenAPI request check (timed by the
simulator_validation scenario).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from twilio_sim import SimulatorState, create_simulator_app, server, validation

__all__ = ["CallsRecorder", "Create", "SimulatorState", "serve", "validation"]


@dataclass(frozen=True)
class Create:
    arrived: float  # time.time() when the request reached the simulator
    attempt_id: int | None
    status: int
    handling: float  # seconds the simulator took to answer it


class CallsRecorder:
    """WSGI middleware: timestamps each `POST .../Calls.json` and notes its attempt and answer."""

    def __init__(self, app):
        self.app = app
        self.creates: list[Create] = []
        self.placed_ids: set[int | None] = set()  # kept as they come: polled five times a second
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.endswith("/Calls.json"):
            return self.app(environ, start_response)
        arrived = time.time()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        url = parse_qs(body.decode("utf-8", "replace")).get("Url", [""])[0]
        attempt = parse_qs(urlsplit(url).query).get("attempt", [""])[0]
        statuses = []

        def recording_start_response(status, headers, exc_info=None):
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start_response)
        create = Create(arrived, int(attempt) if attempt.isdigit() else None,
                        statuses[0] if statuses else 0, time.time() - arrived)
        with self.lock:
            self.creates.append(create)
            if create.status == 201:
                self.placed_ids.add(create.attempt_id)
        return result

    def placed(self) -> int:
        with self.lock:
            return len(self.placed_ids)


@contextmanager
def serve(account_sid: str, auth_token: str, verify_service_sid: str,
          time_scale: float = 1.0) -> Iterator[tuple[str, SimulatorState, CallsRecorder]]:
    """The simulator on a free port of 127.0.0.1; yields its URL, its state and the recorder."""
    # The simulator's werkzeug would log every request at INFO once the app configured logging.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state = SimulatorState(time_scale=time_scale)
    app = create_simulator_app(account_sid, auth_token, verify_service_sid, state=state)
    recorder = CallsRecorder(app.wsgi_app)
    app.wsgi_app = recorder
    running = server.SimulatorServer(app).start()
    try:
        yield running.url, state, recorder
    finally:
        running.stop()
