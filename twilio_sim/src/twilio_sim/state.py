"""The simulator's memory: what Twilio would hold for one account.

Everything lives in one `SimulatorState`, guarded by one re-entrant lock so
that the threaded server (and the background thread that posts status
callbacks) never sees half an update. Operations that read, decide and
write (a Verify check, a send) hold the lock for the whole step.

Time comes from `state.clock` (seconds since the epoch, like `time.time`),
which tests replace to move past a code's expiry without sleeping. Calls
run on simulated seconds instead: `state.time_scale` real seconds pass per
simulated second (1.0 for demos, 0.01 in tests), and the durations reported
to the app are simulated ones.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from twilio_sim.callstate import VoiceStateMixin


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass
class InboxMessage:
    """Something a simulated phone received: an SMS, or a voice call's words."""

    sid: str
    to: str
    from_: str
    body: str
    kind: str  # "sms" or "voice"
    date_created: datetime
    # The Verify code this message carried, kept so tests need not parse bodies.
    code: str | None = None


@dataclass
class Verification:
    """One Verify verification: a code sent (perhaps several times) to one number."""

    sid: str
    service_sid: str
    account_sid: str
    to: str
    channel: str
    code: str
    created_at: float
    updated_at: float
    locale: str | None = None
    status: str = "pending"
    send_attempts: list[dict] = field(default_factory=list)
    checks: int = 0


@dataclass
class Message:
    """A Programmable Messaging message sent through the REST API."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    created_at: float
    updated_at: float
    status: str = "queued"
    messaging_service_sid: str | None = None
    status_callback: str | None = None


@dataclass
class IncomingNumber:
    """A phone number the account owns, with its webhook configuration."""

    sid: str
    phone_number: str
    friendly_name: str
    created_at: float
    updated_at: float
    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    voice_fallback_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"
    sms_fallback_url: str = ""
    sms_fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"


@dataclass
class WebhookRecord:
    """One request the simulator made to the app (a status callback), and how it went."""

    url: str
    params: dict
    signature: str
    sent_at: float
    status_code: int | None = None
    error: str | None = None


class ChangeCondition(threading.Condition):
    """`state.changed`: the condition every change is announced on, which a call thread can
    also wait on for its own legs only (`watching`).

    With a plain condition every change woke every call's thread, each to find nothing for it
    and wait again: at 150 calls/s (some 80 ringing at once) that was ~290 context switches
    and 6 ms of CPU per call; woken only for their own legs, 17 and 3.3 ms.
    `notify_all(legs)` wakes the threads watching those legs and the plain waiters (tests
    waiting for a status); `notify_all()` (a reset) still wakes everybody.
    """

    def __init__(self, lock):
        super().__init__(lock)
        self._shared_lock = lock
        self._watchers: dict[str, set[threading.Condition]] = {}

    @contextmanager
    def watching(self, sids) -> Iterator[threading.Condition]:
        """A condition on the same lock, woken by changes to legs `sids` (call with it held)."""
        waiter = threading.Condition(self._shared_lock)
        for sid in sids:
            self._watchers.setdefault(sid, set()).add(waiter)
        try:
            yield waiter
        finally:
            for sid in sids:
                watchers = self._watchers.get(sid)
                if watchers is not None:
                    watchers.discard(waiter)
                    if not watchers:
                        del self._watchers[sid]

    def notify_all(self, legs=None) -> None:
        super().notify_all()
        if legs is None:
            waiters = set().union(*self._watchers.values())
        else:
            waiters = set().union(*(self._watchers.get(leg.sid, ()) for leg in legs))
        for waiter in waiters:
            waiter.notify_all()


class SimulatorState(VoiceStateMixin):
    """Thread-safe, in-memory state of one simulated Twilio account."""

    def __init__(self, clock: Callable[[], float] = time.time, time_scale: float = 1.0):
        self.lock = threading.RLock()
        # Every change a call thread or a waiting test cares about is announced here.
        self.changed = ChangeCondition(self.lock)
        self.clock = clock
        self.time_scale = time_scale
        # The call engine of the app serving this state (set by create_simulator_app).
        self.voice = None
        self.created_at = clock()
        self.reset()

    def reset(self) -> None:
        """Forget every message, verification, number, call, script and webhook record.

        Calls still running stop quietly, without further callbacks. The
        clock and `time_scale` are settings, not memory: they stay.
        """
        with self.lock:
            self.inboxes: dict[str, list[InboxMessage]] = {}
            self.verifications: dict[str, Verification] = {}
            self.messages: dict[str, Message] = {}
            self.numbers: dict[str, IncomingNumber] = {}
            self.sold_elsewhere: set[str] = set()  # another customer's: buying them is 21422
            self.webhooks: list[WebhookRecord] = []
            self._reset_voice()
        if self.voice is not None:
            # The app a kept-alive connection reached may be gone (each test serves its own).
            self.voice.webhooks.close_connections()

    def now(self) -> datetime:
        """The simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- phones -----------------------------------------------------------

    def deliver(
        self,
        to: str,
        from_: str,
        body: str,
        kind: str = "sms",
        sid: str | None = None,
        code: str | None = None,
    ) -> InboxMessage:
        """Put a message into `to`'s inbox and return it."""
        message = InboxMessage(
            sid=sid or new_sid("SM" if kind == "sms" else "CA"),
            to=to,
            from_=from_,
            body=body,
            kind=kind,
            date_created=self.now(),
            code=code,
        )
        with self.lock:
            self.inboxes.setdefault(to, []).append(message)
        return message

    def inbox(self, e164: str) -> list[InboxMessage]:
        """Messages delivered to `e164`, oldest first (a copy)."""
        with self.lock:
            return list(self.inboxes.get(e164, []))

    def last_code(self, e164: str) -> str | None:
        """The latest Verify code delivered to `e164`, or None."""
        with self.lock:
            for message in reversed(self.inboxes.get(e164, [])):
                if message.code is not None:
                    return message.code
        return None

    def phones(self) -> list[tuple[str, list[InboxMessage], bool]]:
        """Every phone worth showing: (number, inbox newest first, owned by the account).

        Phones with a call ringing or under way come first; then numbers that
        received something, the most recent activity on top; then the
        account's own numbers that received nothing; then phones that only
        had calls.
        """
        with self.lock:
            owned = {n.phone_number for n in self.numbers.values()}
            active = sorted(
                self.inboxes.items(),
                key=lambda item: item[1][-1].date_created.timestamp() if item[1] else 0.0,
                reverse=True,
            )
            rows = [(number, list(reversed(msgs)), number in owned) for number, msgs in active]
            quiet = [n for n in self.numbers.values() if n.phone_number not in self.inboxes]
            quiet.sort(key=lambda n: n.created_at, reverse=True)
            rows += [(n.phone_number, [], True) for n in quiet]
            legs = sorted(self.legs.values(), key=lambda leg: leg.created_at, reverse=True)
            live = list(dict.fromkeys(leg.party for leg in legs if not leg.ended))
            called = list(dict.fromkeys(leg.party for leg in legs))
            listed = {row[0] for row in rows}
            rows += [(party, [], party in owned) for party in called if party not in listed]
            rows.sort(key=lambda row: row[0] not in live)  # stable: keeps the order otherwise
        return rows

    # -- incoming phone numbers ------------------------------------------

    def add_incoming_number(self, e164: str, friendly_name: str | None = None) -> str:
        """Give the account the number `e164` (idempotent) and return its PN sid."""
        with self.lock:
            existing = self.find_number(e164)
            if existing is not None:
                return existing.sid
            now = self.clock()
            number = IncomingNumber(
                sid=new_sid("PN"),
                phone_number=e164,
                friendly_name=friendly_name or e164,
                created_at=now,
                updated_at=now,
            )
            self.numbers[number.sid] = number
            return number.sid

    def find_number(self, e164: str) -> IncomingNumber | None:
        """The account's number `e164`, or None."""
        with self.lock:
            for number in self.numbers.values():
                if number.phone_number == e164:
                    return number
        return None

    def incoming_numbers(self) -> list[IncomingNumber]:
        """The account's numbers, oldest first."""
        with self.lock:
            return sorted(self.numbers.values(), key=lambda n: n.created_at)

    # -- webhooks -----------------------------------------------------------

    def record_webhook(self, record: WebhookRecord) -> None:
        """Keep a record of a request made to the app."""
        with self.lock:
            self.webhooks.append(record)

    def webhook_log(self) -> list[WebhookRecord]:
        """Requests made to the app so far, oldest first (a copy)."""
        with self.lock:
            return list(self.webhooks)
