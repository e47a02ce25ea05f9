"""What the simulator's tests share besides fixtures: the account, clients, stand-ins for the product.

A plain module rather than conftest.py, so that test modules import it by name
(`from sim_support import ...`); pytest puts this folder on `sys.path`.
"""

from __future__ import annotations

import base64
import threading

from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator

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



class Product:
    """A tiny app playing the product: serves TwiML per path and records every request.

    `product.on("/voice", "<Response>...</Response>")` serves a document;
    a callable gets the request record and returns TwiML or a Flask
    response. Paths with nothing configured answer 204, as a status
    callback endpoint does. Each record notes whether the Twilio signature
    was valid for the exact URL and form received.
    """

    def __init__(self):
        from flask import Flask
        from werkzeug.serving import make_server

        self.app = Flask("product")
        self.app.add_url_rule("/<path:path>", view_func=self._handle, methods=["GET", "POST"])
        self.routes: dict[str, object] = {}
        self.requests: list[dict] = []
        self.arrived = threading.Condition()
        self.validator = RequestValidator(AUTH_TOKEN)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll makes shutdown quick: it waits for one poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def on(self, path: str, answer) -> str:
        """Answer requests to `path` with `answer`; returns the full URL."""
        self.routes[path] = answer
        return self.url + path

    def _handle(self, path: str):
        from flask import Response, request

        form = request.form.to_dict()
        record = {
            "path": "/" + path,
            "url": request.url,
            "method": request.method,
            "form": form if request.method == "POST" else request.args.to_dict(),
            "valid": self.validator.validate(
                request.url, form, request.headers.get("X-Twilio-Signature", "")
            ),
        }
        with self.arrived:
            self.requests.append(record)
            self.arrived.notify_all()
        answer = self.routes.get("/" + path)
        if callable(answer) and not isinstance(answer, Response):
            answer = answer(record)
        if answer is None:
            return Response("", status=204)
        if isinstance(answer, str):
            return Response(answer, mimetype="text/xml")
        return answer

    def received(self, path: str) -> list[dict]:
        """The requests made to `path` so far, in order."""
        with self.arrived:
            return [r for r in self.requests if r["path"] == path]

    def forms(self, path: str) -> list[dict]:
        """The parameters of each request made to `path`."""
        return [r["form"] for r in self.received(path)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()



def place_call(sim: SimClient, to: str, url: str | None = None, **form):
    """POST Calls.json from the owned number; returns the JSON body (asserting 201)."""
    data = {"To": to, "From": OWNED_NUMBER, **form}
    if url:
        data["Url"] = url
    response = sim.post(f"{API}/Calls.json", data)
    assert response.status_code == 201, response.json
    return response.json


class RewritingHttpClient(TwilioHttpClient):
    """Sends what the SDK addresses to Twilio's hosts to the simulator instead."""

    HOSTS = {"https://verify.twilio.com/": "verify", "https://api.twilio.com/": "api"}

    def __init__(self, base_url: str):
        super().__init__(timeout=5)
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        for host, product in self.HOSTS.items():
            if url.startswith(host):
                url = f"{self.base_url}/{product}/{url[len(host) :]}"
                break
        else:
            raise AssertionError(f"no simulator mapping for {url}")
        return super().request(method, url, *args, **kwargs)
