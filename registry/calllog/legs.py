"""A call leg's life as Twilio reports it: its status callbacks, its end and its recording.

Every leg the product starts or dials is reported the same way, whether it
relays a masked call (masking) or is one of a callback's two legs
(callbacks), so each report is recorded once, here, for both; a caller
adds what the leg belongs to (`Leg`) and what its event should also say
(`context`), and decides on what these return what the report means to it.

Twilio retries a delivery it did not see acknowledged: each is logged
once (its `delivery_key`), and a repeated one changes nothing. A leg's
status only moves forward (`advance_status`): a late or out-of-order
status is logged, as it arrived, but never moves a leg back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from registry.calllog.models import CallRecord
from registry.calllog.operations import advance_status, delivery_key, log_event, open_leg
from registry.core.extensions import db
from registry.telephony.webhooks import CallStatus, DialResult, Recording


@dataclass(frozen=True)
class Leg:
    """Whose leg it is: what its record is opened with the first time a report names it."""

    kind: str  # one of `models.KINDS`
    direction: str  # when Twilio's report does not say
    proxy_number: str | None = None
    binding_id: int | None = None
    merchant_id: int | None = None
    callback_request_id: int | None = None


@dataclass(frozen=True)
class StatusChange:
    """A status report that was new: the leg's record, and whether its status moved forward."""

    record: CallRecord
    moved: bool


def status_changed(leg: Leg, report: CallStatus, context: Mapping | None = None) -> StatusChange | None:
    """A leg's status changed: open its record on first sight, log the report as a chained
    `status` event (with `context`), and move the leg's status forward, stamping when it
    was answered and when it ended, and how long it lasted.

    None when nothing is to follow: a repeated delivery (stored once already) or a report
    without a CallSid or CallStatus (nothing stored).
    """
    if not report.call_sid or not report.status:
        return None
    record = open_leg(report.call_sid, kind=leg.kind, direction=report.direction or leg.direction,
                      from_number=report.from_number, to_number=report.to_number, status="queued",
                      proxy_number=leg.proxy_number, parent_call_sid=report.parent_call_sid,
                      binding_id=leg.binding_id, merchant_id=leg.merchant_id)
    if leg.callback_request_id is not None:
        record.callback_request_id = leg.callback_request_id
    event = log_event("status", {
        "status": report.status, "sequence": report.sequence, "duration": report.duration,
        "parent_call_sid": report.parent_call_sid, "timestamp": report.timestamp,
        "from_masked": record.from_masked, "to_masked": record.to_masked, **(context or {}),
    }, call_sid=report.call_sid, source="twilio",
        dedupe_key=delivery_key(report.call_sid, report.status, report.sequence))
    if event is None:
        return None
    return StatusChange(record, advance_status(record, report.status, duration=report.duration))


def dial_ended(report: DialResult, context: Mapping | None = None) -> bool:
    """The leg a `<Dial>` bridged in ended: log how as a chained `dial` event (with
    `context`), and take note of its recording if Twilio made one. False for a repeated
    delivery (its event is stored once already)."""
    recording = report.recording
    event = log_event("dial", {
        "dial_call_sid": report.dial_call_sid, "dial_status": report.dial_status,
        "duration": report.duration, "recording_sid": recording.sid if recording else None, **(context or {}),
    }, call_sid=report.call_sid or None, source="twilio",
        dedupe_key=delivery_key(report.call_sid, "dial", report.dial_call_sid))
    if report.dial_call_sid and recording is not None:
        recording_available(report.dial_call_sid, recording)
    return event is not None


def recording_available(call_sid: str, recording: Recording) -> CallRecord | None:
    """Twilio holds a recording of the leg `call_sid`: note where, so that the copy job
    (`recordings.copy_due`) stores it. Returns the leg; None if no such leg is on record.

    Only the recording's SID and URL are written, never its copy's state: noting it
    again (Twilio retried) does not queue a copy already stored, or deleted, again.
    """
    record = db.session.scalar(select(CallRecord).where(CallRecord.call_sid == call_sid))
    if record is not None:
        record.recording_sid, record.recording_url = recording.sid, recording.url
    return record
