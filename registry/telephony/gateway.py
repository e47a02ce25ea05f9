"""`TelephonyGateway`: the product's calls into Twilio, in plain values."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from registry.telephony.numbers import NumbersMixin
from registry.telephony.routing import RefusedHost, RoutingHttpClient, route_url

__all__ = ["CheckResult", "ProviderError", "RefusedHost", "TelephonyGateway", "VerificationNotFound"]

# Twilio error codes the product reacts to.
INVALID_PARAMETER = 60200
MAX_CHECK_ATTEMPTS = 60202
MAX_SEND_ATTEMPTS = 60203
NOT_FOUND = 20404

# A recording's media path, as Twilio gives it in `RecordingUrl` (the extension picks the format).
RECORDING_PATH = re.compile(
    r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Recordings/RE[0-9a-fA-F]{32}(\.wav|\.mp3)?$")
MEDIA_CHUNK = 64 * 1024
MAX_REDIRECTS = 3


class ProviderError(RuntimeError):
    """Twilio refused a request or could not be reached.

    `code` is Twilio's error code when it gave one; `status` the HTTP status
    (0 when no answer came). `retryable` says whether trying again later may
    help (throttling, server errors, timeouts).
    """

    def __init__(self, message: str, *, code: int | None = None, status: int = 0):
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


class VerificationNotFound(ProviderError):
    """No pending verification for that number: none sent, expired, or used."""


@dataclass(frozen=True)
class VerificationResult:
    sid: str
    status: str
    channel: str


@dataclass(frozen=True)
class CheckResult:
    approved: bool
    status: str


class TelephonyGateway(NumbersMixin):
    """Twilio REST calls and webhook signatures, through the official SDK."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        verify_service_sid: str,
        api_url: str | None = None,
        timeout: float = 10.0,
    ):
        self.account_sid = account_sid
        self.verify_service_sid = verify_service_sid
        self._auth_token = auth_token
        self._http = RoutingHttpClient(api_url, timeout=timeout)
        self._api_url = api_url or "https://api.twilio.com"
        self._client: Client | None = None
        self._validator = RequestValidator(auth_token)

    @property
    def client(self) -> Client:
        # Built on first use: constructing it needs no network, but nothing
        # should happen at app creation that a CLI command does not need.
        if self._client is None:
            self._client = Client(self.account_sid, self._auth_token, http_client=self._http)
        return self._client

    def _call(self, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except TwilioRestException as exc:
            error = VerificationNotFound if exc.code == NOT_FOUND else ProviderError
            raise error(exc.msg, code=exc.code, status=exc.status) from None
        except TwilioException as exc:
            # A list call's failed page fetch carries the response, not a code.
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", 0)
            try:
                code = json.loads(response.text).get("code") if response is not None else None
            except (ValueError, AttributeError):
                code = None
            raise ProviderError(str(exc.args[0]), code=code, status=status) from None
        except RequestException as exc:
            raise ProviderError(f"Twilio could not be reached at {self._api_url}: {type(exc).__name__}") \
                from None

    # Verify ---------------------------------------------------------------

    def start_verification(self, to: str, channel: str, locale: str | None = None):
        """Send a one-time code to `to` (E.164) by `channel` (`sms` or `call`)."""
        service = self.client.verify.v2.services(self.verify_service_sid)
        options = {"to": to, "channel": channel}
        if locale:
            options["locale"] = locale
        verification = self._call(service.verifications.create, **options)
        return VerificationResult(verification.sid, verification.status, verification.channel)

    def check_verification(self, to: str, code: str, verification_sid: str | None = None) -> CheckResult:
        """Check `code` for `to`, or for that one verification when `verification_sid` is
        given (then a code of another, newer verification of the number does not count);
        `VerificationNotFound` if it is not pending (none sent, expired, canceled or used)."""
        service = self.client.verify.v2.services(self.verify_service_sid)
        target = {"verification_sid": verification_sid} if verification_sid else {"to": to}
        check = self._call(service.verification_checks.create, code=code, **target)
        return CheckResult(approved=check.status == "approved", status=check.status)

    def cancel_verification(self, sid: str) -> bool:
        """Cancel a pending verification (its code stops working, and the number's next
        verification is a fresh one). False if it was no longer pending."""
        service = self.client.verify.v2.services(self.verify_service_sid)
        try:
            self._call(service.verifications(sid).update, status="canceled")
        except VerificationNotFound:
            return False
        return True

    # Messaging (the account's numbers: `telephony.numbers`) -----------------------------

    def send_sms(self, from_: str, to: str, body: str, status_callback: str | None = None) -> str:
        """Send an SMS; returns the message SID."""
        options = {"from_": from_, "to": to, "body": body}
        if status_callback:
            options["status_callback"] = status_callback
        return self._call(self.client.messages.create, **options).sid

    # Voice ------------------------------------------------------------------

    def create_call(self, *, to: str, from_: str, url: str, status_callback: str,
                    timeout: int = 30) -> str:
        """Place an outbound call whose TwiML comes from `url`; returns the CallSid."""
        call = self._call(
            self.client.calls.create, to=to, from_=from_, url=url, method="POST",
            status_callback=status_callback, status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"], timeout=timeout,
        )
        return call.sid

    def fetch_call_status(self, call_sid: str) -> str:
        """A call's current status at Twilio ("ringing", "in-progress", "completed", "busy"...)."""
        return self._call(self.client.calls(call_sid).fetch).status

    def find_calls(self, *, to: str, from_: str) -> list[dict]:
        """Recent calls between two numbers (to reconcile a call whose SID was lost)."""
        calls = self._call(self.client.calls.list, to=to, from_=from_, limit=20)
        return [{"sid": c.sid, "status": c.status, "date_created": c.date_created} for c in calls]

    # Recordings -----------------------------------------------------------

    def download_recording(self, url: str, out: BinaryIO, extension: str = ".wav") -> int:
        """Write recording `url`'s audio to `out`; returns the number of bytes written.

        `url` is a `RecordingUrl` from a webhook: Twilio's own
        (`https://api.twilio.com/2010-04-01/.../Recordings/RE...`) or the same
        path under `TWILIO_API_URL`. It goes through the same routing as every
        SDK request, with the account's credentials. The SDK's `request()`
        returns the body decoded as text, which would corrupt audio, so the
        bytes are streamed through the SDK client's own `requests` session.
        Twilio answers media requests with a redirect to its storage: that is
        followed over HTTPS only, without the credentials. `ProviderError` on
        any failure (`retryable` says whether trying later may help).
        """
        target = self._recording_target(url, extension)
        session, auth = self._http.session, (self.account_sid, self._auth_token)
        try:
            for _ in range(MAX_REDIRECTS + 1):
                with session.get(target, auth=auth, stream=True, timeout=self._http.timeout,
                                 allow_redirects=False) as response:
                    if response.is_redirect:
                        target, auth = urljoin(target, response.headers["Location"]), None
                        if urlsplit(target).scheme != "https":
                            raise ProviderError("recording redirect to a non-HTTPS location refused")
                        continue
                    if response.status_code != 200:
                        raise ProviderError(f"recording download answered HTTP {response.status_code}",
                                            status=response.status_code)
                    written = 0
                    for chunk in response.iter_content(MEDIA_CHUNK):
                        out.write(chunk)
                        written += len(chunk)
                    return written
        except RequestException as exc:
            raise ProviderError(f"recording download failed: {type(exc).__name__}") from None
        raise ProviderError("recording download redirected too often")

    def _recording_target(self, url: str, extension: str) -> str:
        """The routed media URL for `url`; `RefusedHost` unless it is a recording of Twilio's."""
        parts = urlsplit(url)
        base = (self._http.api_base_url or "").rstrip("/")
        if base and url.startswith(base + "/"):
            # Already routed (the simulator hands out its own address): back to Twilio's form.
            product, _, rest = url[len(base) + 1:].partition("/")
            parts = urlsplit(f"https://{product}.twilio.com/{rest}")
        if not RECORDING_PATH.match(parts.path) or parts.query or parts.fragment:
            raise RefusedHost("not a Twilio recording URL")
        path = parts.path if parts.path.endswith((".wav", ".mp3")) else parts.path + extension
        return route_url(f"{parts.scheme}://{parts.netloc}{path}", self._http.api_base_url)

    # Webhooks -------------------------------------------------------------

    def signature_is_valid(self, url: str, params: dict, signature: str | None) -> bool:
        """Whether `signature` is Twilio's `X-Twilio-Signature` for this request."""
        if not signature:
            return False
        return self._validator.validate(url, params, signature)
