"""A real local HTTP receiver for webhook tests: a werkzeug server thread that verifies every
request with `standardwebhooks.Webhook.verify` and answers as the test scripts it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from standardwebhooks import Webhook
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: dict | None
    error: str | None


@dataclass
class Receiver:
    """`answers`: what to answer next, in turn (an int status, or `"hang"`: wait `hang_for`
    seconds first, then 200); `default` once they run out."""

    secrets: list[str] = field(default_factory=list)
    answers: list = field(default_factory=list)
    default: int | str = 200
    hang_for: float = 3.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified, error = None, None
        for secret in self.secrets or [None]:
            if secret is None:
                break
            try:
                verified, error = Webhook(secret).verify(body, headers), None
                break
            except Exception as exc:  # noqa: BLE001
                error = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.received.append(Received(headers, body, verified, error))
            answer = self.answers.pop(0) if self.answers else self.default
        if answer == "hang":
            time.sleep(self.hang_for)
            answer = 200
        if answer == "redirect":
            moved = Response("", status=302, headers={"Location": "http://127.0.0.1:1/"})
            return moved(environ, start_response)
        if answer == "big":
            return Response("x" * 100_000, status=200)(environ, start_response)
        return Response(f"answer {answer}", status=int(answer))(environ, start_response)

    def ids(self) -> list[str]:
        return [r.headers.get("webhook-id") for r in self.received]


class ReceiverServer:
    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        self.server = make_server("127.0.0.1", 0, receiver, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True, name="webhook-receiver")

    def __enter__(self) -> ReceiverServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()
