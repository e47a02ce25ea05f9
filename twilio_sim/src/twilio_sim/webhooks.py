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

All of one sender's requests share one `requests` session and its pool of
keep-alive connections (`WebhookSession`). A fresh session per request (what
`requests.request` does) cost a new TCP connection, a new connection pool and
a walk through the environment's proxy settings every time: about half the
simulator's CPU per placed call. The session keeps no cookies, as before.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from twilio.request_validator import RequestValidator

from twilio_sim.http_session import EnvironmentOnceSession
from twilio_sim.state import SimulatorState, WebhookRecord

# A callback that hangs must not pile up threads for long.
DEFAULT_TIMEOUT = 5.0
# Twilio's first callback comes after the API response has reached the
# caller; a short pause keeps that order even for an in-process client.
DEFAULT_DELAY = 0.05
# A kept-alive connection idle longer than this is closed and a fresh one opened instead:
# servers drop idle connections after a few seconds (gunicorn after 2), and a request sent
# on one they are closing fails; 1 s stays below every common server's limit.
IDLE_LIMIT = 1.0
# Connections kept per host: about as many as calls post to one app at once under load.
POOL_SIZE = 32


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
        self.session = WebhookSession()
        # Tests may swap the transport; it takes requests.request's arguments.
        self.transport = transport or self.session.send_webhook
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

    def close_connections(self) -> None:
        """Close the kept-alive connections not in use (a request under way keeps its own).

        `SimulatorState.reset` calls this: a test's app server may be gone, or
        replaced by another on the same port, and must not get the next test's
        requests on a connection it accepted earlier.
        """
        self.session.close_idle()

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
            # Encoded here, as `requests` would encode the dict (it costs a third more there).
            signature, body = sign(self.auth_token, url, params), urlencode(params, doseq=True)
        record = WebhookRecord(url=url, params=dict(params), signature=signature, sent_at=self.state.clock())
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
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


class _IdleLimit:
    """Mixed into urllib3's pools: a connection idle over IDLE_LIMIT is reopened before use."""

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)
        idle_since = getattr(conn, "sim_idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > IDLE_LIMIT:
            conn.close()  # urllib3 connects again on the next request, as for a dropped one
        return conn

    def _put_conn(self, conn) -> None:
        if conn is not None:
            conn.sim_idle_since = time.monotonic()
        super()._put_conn(conn)


# Named as urllib3's own pools: their name is in the errors recorded (and shown in transcripts).
class HTTPConnectionPool(_IdleLimit, urllib3.HTTPConnectionPool):
    pass


class HTTPSConnectionPool(_IdleLimit, urllib3.HTTPSConnectionPool):
    pass


class _WebhookAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class WebhookSession(EnvironmentOnceSession):
    """A thread-safe `requests` session for webhooks: pooled keep-alive connections, no cookies.

    `send` takes `requests.request`'s arguments and goes straight to the
    session's transport adapter with a request prepared as `Session.request`
    prepares it (same headers, form encoding, proxies, CA bundle, netrc
    credentials, exceptions). It skips what a webhook has no use for and what
    cost as much CPU as the HTTP exchange itself: merging cookies and hooks,
    walking the environment and ~/.netrc again on every request (they are read
    once per scheme and host), following redirects (a webhook never does), and
    keeping cookies (each webhook goes out with only its own headers, as when
    every request had a session of its own).
    """

    def __init__(self):
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        for prefix in ("https://", "http://"):
            self.mount(prefix, _WebhookAdapter(pool_maxsize=POOL_SIZE))
        self._netrc_auth: dict[tuple[str, str], tuple[str, str] | None] = {}

    def send_webhook(self, method: str, url: str, data=None, headers=None, timeout=None,
                     allow_redirects: bool = False) -> requests.Response:
        """One request without following redirects; the response's body is read."""
        if allow_redirects:
            # Not how webhooks go out; the general path keeps the argument meaningful.
            return self.request(method, url, data=data, headers=headers, timeout=timeout)
        settings = self.merge_environment_settings(url, {}, False, None, None)  # once per host
        auth = self._netrc_auth_for(url)
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, None)
        prepared.prepare_headers({**self.headers, **(headers or {})})
        prepared.prepare_body(data, None)
        if auth is not None:
            prepared.prepare_auth(auth, url)
        response = self.get_adapter(prepared.url).send(
            prepared, stream=False, timeout=timeout, verify=settings["verify"], cert=settings["cert"],
            proxies=settings["proxies"])
        response.content  # noqa: B018 - read it all now, so the connection goes back to the pool
        return response

    def _netrc_auth_for(self, url: str) -> tuple[str, str] | None:
        """~/.netrc's credentials for the URL's host, read once per scheme and host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._netrc_auth:
            self._netrc_auth[key] = requests.utils.get_netrc_auth(url) if self.trust_env else None
        return self._netrc_auth[key]

    def close_idle(self) -> None:
        """Close every pooled connection not in use; the session stays usable."""
        for adapter in self.adapters.values():
            adapter.poolmanager.clear()


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))
