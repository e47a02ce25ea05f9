"""One attempt over HTTP: the signed POST, bounded in time and in what is read back.

Runs in the scheduler's sending threads, with no database access: `prepare` (on the main thread)
builds the request from the rows, `post` sends it, `delivery.record` stores the result.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from requests import RequestException
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook

from registry.core.http_session import EnvironmentOnceSession
from registry.webhooks.safety import PrivateAddress, PublicOnlyAdapter

SNIPPET_BYTES = 4096
USER_AGENT = "registry-webhooks/1"


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Result:
    delivery_id: int
    started_at: datetime
    status_code: int | None
    latency_ms: int
    snippet: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(secrets: list[str], msg_id: str, moment: datetime, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,…` per secret (two during a rotation's overlap)."""
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def prepare(delivery_id: int, url: str, msg_id: str, body: str, secrets: list[str],
            moment: datetime) -> Outgoing:
    data = body.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature(secrets, msg_id, moment, data),
    }
    return Outgoing(delivery_id, url, data, headers)


_local = threading.local()


def _session(pool_size: int, check_addresses: bool) -> EnvironmentOnceSession:
    """This thread's session; where addresses are checked, one that checks each connection's."""
    sessions = _local.__dict__.setdefault("sessions", {})
    session = sessions.get(check_addresses)
    if session is None:
        session = sessions[check_addresses] = EnvironmentOnceSession()
        kind = PublicOnlyAdapter if check_addresses else HTTPAdapter
        adapter = kind(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def post(outgoing: Outgoing, timeout: float, check_addresses: bool, started_at: datetime,
         pool_size: int = 10) -> Result:
    """POST `outgoing`: no redirect followed, `timeout` seconds to connect and between bytes, at
    most 4 KB of the answer read. Never raises: a failure is the result's `error`."""
    began = time.monotonic()

    def result(status=None, snippet=None, error=None) -> Result:
        latency = int((time.monotonic() - began) * 1000)
        return Result(outgoing.delivery_id, started_at, status, latency, snippet, error)

    # With `check_addresses` the session's adapter refuses a connection to any address that is
    # not public (`safety.PublicOnlyAdapter`): the name may resolve elsewhere than when it was
    # saved, or between a look-up here and the connection.
    try:
        response = _session(pool_size, check_addresses).post(
            outgoing.url, data=outgoing.body, headers=outgoing.headers, timeout=(timeout, timeout),
            allow_redirects=False, stream=True)
    except RequestException as exc:
        return result(error=_describe(exc))
    try:
        raw = response.raw.read(SNIPPET_BYTES, decode_content=True) or b""
    except Exception as exc:  # noqa: BLE001 - a broken body still has its status
        raw, error = b"", _describe(exc)
    else:
        error = None
    finally:
        response.close()
    snippet = raw[:SNIPPET_BYTES].decode("utf-8", errors="replace").replace("\x00", "")
    if error is None and not 200 <= response.status_code < 300:
        error = f"HTTP {response.status_code}"
    return result(response.status_code, snippet or None, error)


def _describe(exc: Exception) -> str:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, PrivateAddress):
        return "refused: invalid.webhook_url_private"  # as the check before the attempt says
    name = type(exc).__name__
    if "Timeout" in name:
        return "timeout"
    if "ConnectionError" in name or "ConnectTimeout" in name:
        return "connection failed"
    return name[:100]
