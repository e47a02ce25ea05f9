"""Serving a simulator app over real HTTP on a free local port, in a thread.

Tests (and the product's end-to-end tests) point the Twilio SDK at
`SimulatorServer(app).start().url`; the SDK then speaks real HTTP, with
its own encoding and auth, exactly as it would to Twilio.
"""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import make_server


class SimulatorServer:
    """A threaded werkzeug server for `app` on 127.0.0.1 and an OS-chosen port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self._server = make_server(host, port, app, threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        return f"http://{self._server.host}:{self._server.server_port}"

    def start(self) -> SimulatorServer:
        """Start serving in a daemon thread; return self."""
        context = self.app.extensions.get("twilio_simulator")
        if context is not None:
            # Recording URLs handed to the app must point here.
            context.voice.base_url = self.url
        if self._thread is None:
            # A short poll interval makes stop() quick: shutdown() waits one poll.
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name="twilio-simulator",
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
