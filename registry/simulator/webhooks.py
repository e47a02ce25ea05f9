"""Requests from the simulator to the app (callbacks, TwiML fetches), signed as Twilio signs them.

Twilio puts `X-Twilio-Signature` on every webhook: base64 HMAC-SHA1 of the
full URL followed by each POST parameter's name and value, sorted by name,
keyed with the account's auth token. The SDK's `RequestValidator` computes
exactly that, so the simulator uses it rather than a copy of the algorithm:
whatever the app's validator accepts from the simulator it accepts from
Twilio.

Message callbacks go out from a background thread, in order, after the
REST response has been sent, as Twilio's do; a voice call makes its
requests from its own thread, in the order the call produces them. Failures are recorded in the state,
never raised: Twilio does not tell the API caller that a webhook failed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.request_validator import RequestValidator

from registry.simulator.state import SimulatorState, WebhookRecord

# A callback that hangs must not pile up threads for long.
DEFAULT_TIMEOUT = 5.0
# Twilio's first callback comes after the API response has reached the
# caller; a short pause keeps that order even for an in-process client.
DEFAULT_DELAY = 0.05


def sign(auth_token: str, url: str, params: dict) -> str:
    """The `X-Twilio-Signature` Twilio would send with `params` POSTed to `url`."""
    return RequestValidator(auth_token).compute_signature(url, params)


class WebhookSender:
    """Posts signed webhooks from background threads and records each outcome."""

    def __init__(
        self,
        auth_token: str,
        state: SimulatorState,
        timeout: float = DEFAULT_TIMEOUT,
        delay: float = DEFAULT_DELAY,
        transport: Callable[..., requests.Response] | None = None,
    ):
        self.auth_token = auth_token
        self.state = state
        self.timeout = timeout
        self.delay = delay
        # Tests may swap the transport; it takes requests.request's arguments.
        self.transport = transport or requests.request
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def send_in_background(self, url: str, events: list[dict], method: str = "POST") -> None:
        """Send each parameter set in `events` to `url`, one after another, off-thread."""
        thread = threading.Thread(
            target=self._send_all, args=(url, events, method), daemon=True, name="sim-webhook"
        )
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for callbacks already started (for tests and orderly shutdown)."""
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def send(self, url: str, params: dict, method: str = "POST") -> WebhookRecord:
        """Send one signed webhook now and record how it went."""
        return self.request(url, params, method)[0]

    def request(
        self, url: str, params: dict, method: str = "POST"
    ) -> tuple[WebhookRecord, requests.Response | None]:
        """Send one signed webhook now; return its record and the response (None if none came).

        Voice calls use the response: it carries the TwiML to play next.
        """
        response = None
        if method.upper() == "GET":
            # A GET webhook carries its parameters in the URL, and Twilio signs
            # that URL with no POST parameters.
            url = _with_query(url, params)
            signature, body = sign(self.auth_token, url, {}), None
        else:
            signature, body = sign(self.auth_token, url, params), params
        record = WebhookRecord(url=url, params=dict(params), signature=signature, sent_at=self.state.clock())
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        try:
            response = self.transport(
                method.upper(),
                url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            record.status_code = response.status_code
        except Exception as exc:  # any failure is recorded, never raised
            record.error = f"{type(exc).__name__}: {exc}"
        self.state.record_webhook(record)
        return record, response

    def _send_all(self, url: str, events: list[dict], method: str) -> None:
        time.sleep(self.delay)
        for params in events:
            self.send(url, params, method)


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))
