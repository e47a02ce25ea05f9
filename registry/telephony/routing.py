"""Where the Twilio SDK's requests go.

The SDK builds URLs on `https://<product>.twilio.com`. With an API base URL
configured (the simulator in development and tests), each request goes to
`<base>/<product>/<path>` instead; without one, only Twilio's own product
hosts are allowed. Any other host is refused before a socket is opened, so
no test or misconfiguration can reach an unexpected server.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient

from registry.core.http_session import EnvironmentOnceSession
from registry.core.metrics import TWILIO_LATENCY, TWILIO_REQUESTS, http_outcome

# Products whose hosts the app may call (`<product>.twilio.com`).
KNOWN_PRODUCTS = frozenset({"api", "verify", "lookups"})


class RefusedHost(RuntimeError):
    """A request was about to go to a host the gateway has no mapping for."""


def route_url(url: str, api_base_url: str | None) -> str:
    """Rewrite a Twilio SDK URL for `api_base_url`, or refuse it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    product, _, domain = host.partition(".")
    if parts.scheme != "https" or domain != "twilio.com" or product not in KNOWN_PRODUCTS:
        raise RefusedHost(f"refusing to send a request to {parts.scheme}://{host}")
    if not api_base_url:
        return url
    base = urlsplit(api_base_url.rstrip("/"))
    path = f"{base.path}/{product}{parts.path}"
    return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))


# Keep-alive connections kept per host: as many as a scheduler has Twilio requests in flight
# (registry.callbacks.placing.IN_FLIGHT); a request beyond them would open and drop its own.
POOL_SIZE = 40


class RoutingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with every URL passed through `route_url`."""

    def __init__(self, api_base_url: str | None, timeout: float = 10.0):
        super().__init__(timeout=timeout)
        self.api_base_url = api_base_url
        self.session = EnvironmentOnceSession()
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, HTTPAdapter(pool_maxsize=POOL_SIZE))

    def request(self, method, url, *args, **kwargs):
        routed = route_url(url, self.api_base_url)
        # Counted by Twilio's product (api, verify, lookups) and outcome, never by URL (it holds SIDs).
        product = (urlsplit(url).hostname or "").partition(".")[0]
        started, status = time.perf_counter(), 0
        try:
            response = super().request(method, routed, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            TWILIO_LATENCY.labels(product, method.upper()).observe(time.perf_counter() - started)
            TWILIO_REQUESTS.labels(product, method.upper(), http_outcome(status)).inc()
