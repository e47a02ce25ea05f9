"""The simulator's record of voice calls: one `Leg` per call leg, and the recordings made.

A leg is what Twilio calls a Call resource: an outbound-api call, an
inbound call, or a child leg a `<Dial>` placed. Its *party* is the
simulated phone on the far end (the callee of an outbound leg, the caller
of an inbound one); that party's `CallScript` decides how it behaves.

Legs are mutated only under the state's lock, by the call's own thread
(status, what was heard) or by requests from outside (REST updates, the
phones page, tests), which only raise flags the call's thread acts on.
Tests read immutable `CallSnapshot`s, never live legs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from twilio_sim.scripts import CallScript

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
LIVE_STATUSES = ("queued", "initiated", "ringing", "in-progress")
CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass
class Recording:
    """A recording of a call (whole call, a `<Dial>` bridge, or a `<Record>` message)."""

    sid: str
    account_sid: str
    call_sid: str
    duration: int
    start_time: float
    created_at: float
    source: str  # "OutboundAPI", "DialVerb" or "RecordVerb", as Twilio names them
    channels: int = 1
    url: str = ""
    status: str = "completed"


@dataclass(eq=False)  # a leg is itself: compared and hashed by identity
class Leg:
    """One call leg, with the app's instructions for it and what happened on it."""

    sid: str
    account_sid: str
    direction: str  # "outbound-api", "outbound-dial" or "inbound"
    to: str
    from_: str
    party: str
    script: CallScript
    created_at: float
    parent_sid: str | None = None
    status: str = "queued"
    updated_at: float = 0.0
    start_time: float | None = None
    end_time: float | None = None
    duration: int | None = None
    phone_number_sid: str | None = None
    # What the app asked for.
    url: str = ""
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str = ""
    fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_events: frozenset = frozenset()
    timeout: int = 60
    time_limit: int = 14400
    record: bool = False
    recording_status_callback: str = ""
    recording_status_callback_method: str = "POST"
    # Simulated seconds on the call's timeline (see lifecycle.CallRun).
    answered_at: float | None = None
    hangup_at: float | None = None
    # What happened.
    heard: list[str] = field(default_factory=list)
    said: list[dict] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    error: str | None = None
    error_code: int | None = None
    sequence: int = 0
    gathers: int = 0
    # Requests from outside, acted on by the call's thread.
    answer_requested: bool = False
    decline_requested: bool = False
    hangup_requested: str | None = None  # "party" (the phone hung up) or "api"
    redirect: tuple[str, str, str | None] | None = None  # (url, method, twiml)
    dtmf: str = ""

    @property
    def ended(self) -> bool:
        """Whether the leg has reached a final status."""
        return self.status in FINAL_STATUSES

    def note(self, line: str) -> None:
        """Add a line to the leg's transcript (what the simulator saw happen)."""
        self.transcript.append(line)


@dataclass(frozen=True)
class CallSnapshot:
    """A leg as it was when the snapshot was taken; what tests inspect."""

    sid: str
    parent_sid: str | None
    from_: str
    to: str
    party: str
    direction: str
    status: str
    duration: int | None
    start_time: float | None
    end_time: float | None
    heard: tuple[str, ...]
    said: tuple[dict, ...]
    transcript: tuple[str, ...]
    children: tuple[str, ...]
    error: str | None
    error_code: int | None
    recordings: tuple[Recording, ...]

    @property
    def ended(self) -> bool:
        """Whether the leg had reached a final status."""
        return self.status in FINAL_STATUSES


def snapshot(leg: Leg, recordings: dict[str, Recording]) -> CallSnapshot:
    """A `CallSnapshot` of `leg` (call with the state's lock held)."""
    return CallSnapshot(
        sid=leg.sid,
        parent_sid=leg.parent_sid,
        from_=leg.from_,
        to=leg.to,
        party=leg.party,
        direction=leg.direction,
        status=leg.status,
        duration=leg.duration,
        start_time=leg.start_time,
        end_time=leg.end_time,
        heard=tuple(leg.heard),
        said=tuple(dict(item) for item in leg.said),
        transcript=tuple(leg.transcript),
        children=tuple(leg.children),
        error=leg.error,
        error_code=leg.error_code,
        recordings=tuple(copy.copy(recordings[sid]) for sid in leg.recordings if sid in recordings),
    )
