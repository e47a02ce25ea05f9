"""The call engine: starts call legs, each call in its own daemon thread, and shapes their requests.

One `CallEngine` belongs to one simulator app (and so to one account); the
app factory attaches it to the state as `state.voice`. A call's thread
(`lifecycle.CallRun`) drives the whole call: its ringing, the app's TwiML
(`twiml.Interpreter`), any `<Dial>` legs it places, and every status
callback, in the order they happen.
"""

from __future__ import annotations

import functools
import threading
import time

import phonenumbers

from twilio_sim.legs import CALLBACK_EVENTS, Leg
from twilio_sim.state import SimulatorState, new_sid
from twilio_sim.webhooks import WebhookSender

API_VERSION = "2010-04-01"


class CallEngine:
    """Places and receives calls for one account, and keeps track of their threads."""

    def __init__(self, state: SimulatorState, account_sid: str, webhooks: WebhookSender):
        self.state = state
        self.account_sid = account_sid
        self.webhooks = webhooks
        # Where the simulator itself is reachable, for RecordingUrl; set by
        # SimulatorServer, or taken from the first REST request.
        self.base_url: str | None = None
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    # -- starting calls -----------------------------------------------------

    def start_outbound(self, to: str, from_: str, **config) -> Leg:
        """Create an outbound-api leg (status "queued") and start calling `to`.

        `config` holds the Leg's app-facing fields (url, method, twiml,
        status_callback, status_events, timeout, record, ...).
        """
        leg = self.new_leg(direction="outbound-api", to=to, from_=from_, party=to, **config)
        self.spawn(leg, "outbound")
        return leg

    def start_inbound(self, from_: str, to: str) -> Leg:
        """The phone `from_` calls `to`; the account's number `to` answers with its VoiceUrl."""
        number = self.state.find_number(to)
        config = {}
        if number is not None:
            config = {
                "phone_number_sid": number.sid,
                "url": number.voice_url,
                "method": number.voice_method or "POST",
                "fallback_url": number.voice_fallback_url,
                "fallback_method": number.voice_fallback_method or "POST",
                "status_callback": number.status_callback,
                "status_callback_method": number.status_callback_method or "POST",
            }
        leg = self.new_leg(direction="inbound", to=to, from_=from_, party=from_, **config)
        reason = None
        if number is None:
            reason = f"{to} is not a phone number of this account; nobody answers it"
        elif not number.voice_url:
            reason = f"{to} has no VoiceUrl configured; Twilio has no TwiML to play"
        if reason is None:
            self.spawn(leg, "inbound")
            return leg
        with self.state.lock:
            now = self.state.clock()
            leg.status, leg.error, leg.end_time, leg.duration = "failed", reason, now, 0
            leg.note(f"call failed: {reason}")
            self.state.changed.notify_all([leg])
        if leg.status_callback:
            self.spawn(leg, "failed")
        return leg

    def new_leg(self, direction: str, to: str, from_: str, party: str, **fields) -> Leg:
        """Register a new leg in the state, with its party's script as it stands now."""
        with self.state.lock:
            now = self.state.clock()
            leg = Leg(
                sid=new_sid("CA"),
                account_sid=self.account_sid,
                direction=direction,
                to=to,
                from_=from_,
                party=party,
                script=self.state.script_for(party),
                created_at=fields.pop("created_at", now),
                updated_at=now,
                **fields,
            )
            self.state.legs[leg.sid] = leg
            self.state.changed.notify_all([leg])
        return leg

    def spawn(self, leg: Leg, mode: str, **kwargs) -> None:
        """Run `leg` in a new CallRun thread (mode: outbound, inbound, failed, resume)."""
        from twilio_sim.lifecycle import CallRun  # the run drives the engine, not the reverse

        run = CallRun(self, leg, **kwargs.pop("timeline", {}))
        thread = threading.Thread(target=run.main, args=(mode,), kwargs=kwargs, daemon=True, name="sim-call")
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait for every call thread and queued callback; False if some are still busy."""
        deadline = time.monotonic() + timeout
        while True:
            with self._threads_lock:
                threads = [t for t in self._threads if t.is_alive()]
            if not threads:
                break
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                with self._threads_lock:
                    if any(t.is_alive() for t in self._threads):
                        return False
        self.webhooks.join(max(0.0, deadline - time.monotonic()))
        return True

    # -- what the app is told ---------------------------------------------------

    def call_params(self, leg: Leg, status: str | None = None) -> dict:
        """The parameters Twilio sends with every request about `leg`."""
        from_country, to_country = country_of(leg.from_), country_of(leg.to)
        params = {
            "AccountSid": leg.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": leg.sid,
            "CallStatus": status or leg.status,
            "Direction": leg.direction,
            "From": leg.from_,
            "To": leg.to,
            "Caller": leg.from_,
            "Called": leg.to,
        }
        for prefix, country in (("From", from_country), ("Caller", from_country),
                                ("To", to_country), ("Called", to_country)):
            params.update({f"{prefix}Country": country, f"{prefix}City": "",
                           f"{prefix}State": "", f"{prefix}Zip": ""})
        if leg.parent_sid:
            params["ParentCallSid"] = leg.parent_sid
        return params

    def recording_url(self, sid: str) -> str:
        """Where the simulator serves recording `sid` (WAV; add .mp3 or .json for those)."""
        base = (self.base_url or "http://127.0.0.1:5001").rstrip("/")
        return f"{base}/api/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"


def parse_events(values) -> frozenset:
    """StatusCallbackEvent values (repeated, or space-separated as in TwiML) as a set."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [values]
    events = {word.lower() for value in values for word in str(value).replace(",", " ").split()}
    return frozenset(event for event in events if event in CALLBACK_EVENTS)


@functools.lru_cache(maxsize=4096)  # parsed four times per request about a call otherwise
def country_of(number: str) -> str:
    """The ISO country of an E.164 number, or "" when it has none."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""
