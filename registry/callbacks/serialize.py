"""A callback request as its JSON model (`schemas.Callback`): its attempts, their calls, and
who is being called now (read from the legs)."""

from sqlalchemy import select

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.schemas import Attempt, Callback, CallSummary, Window
from registry.calllog.models import CallRecord
from registry.core.extensions import db

# What an attempt under way is doing, read from its legs: the store's phone rings or the
# merchant hears who asks (`calling_store`); the merchant pressed 1 and the bridge dials the
# shopper (`calling_shopper`); the shopper answered (`connected`).
CALLING_STORE, CALLING_SHOPPER, CONNECTED = "calling_store", "calling_shopper", "connected"
SHOPPER_RINGING = ("queued", "initiated", "ringing")


def call_summary(record: CallRecord) -> CallSummary:
    return CallSummary.model_validate({
        "id": record.id, "call_sid": record.call_sid, "kind": record.kind, "status": record.status,
        "from": record.from_masked, "to": record.to_masked, "duration": record.duration_seconds,
        "started_at": record.created_at, "answered_at": record.answered_at,
        "ended_at": record.ended_at})


def attempt_records(attempt: CallbackAttempt) -> list[CallRecord]:
    """The call records of the attempt's legs (the store's, then the shopper's once dialed)."""
    sids = [s for s in (attempt.merchant_call_sid, attempt.shopper_call_sid) if s]
    return db.session.scalars(select(CallRecord).where(CallRecord.call_sid.in_(sids))
                              .order_by(CallRecord.id)).all() if sids else []


def attempt_phase(attempt: CallbackAttempt, records: list[CallRecord]) -> str | None:
    """What the attempt is doing now (`calling_store`, `calling_shopper`, `connected`), or None
    once it ended or the shopper's leg ended (the dial result is about to end it)."""
    if attempt.state == "ended":
        return None
    shopper_leg = next((r for r in records if attempt.shopper_call_sid
                        and r.call_sid == attempt.shopper_call_sid), None)
    if shopper_leg is not None:
        if shopper_leg.status in SHOPPER_RINGING:
            return CALLING_SHOPPER
        return CONNECTED if shopper_leg.status == "in-progress" else None
    # The merchant accepted: the bridge is dialing the shopper before their leg reports.
    return CALLING_SHOPPER if attempt.merchant_pressed_connect else CALLING_STORE


def call_phase(request: CallbackRequest, phases: list[str | None]) -> str | None:
    """The request's phase while a call is under way (its last attempt's), else None."""
    if request.status == "connected":
        return CONNECTED
    if request.status != "calling" or not phases:
        return None
    return phases[-1] or CALLING_STORE


def callback(request: CallbackRequest, waiting_reason: str | None = None) -> Callback:
    """A request with its attempts and their calls; `call_phase` says who is being called now,
    `waiting_reason` why a scheduled call waits (`operations.waiting_reason`'s code)."""
    attempts, phases = [], []
    for attempt in request.attempts:
        records = attempt_records(attempt)
        phase = attempt_phase(attempt, records)
        phases.append(phase)
        attempts.append(Attempt(number=attempt.seq, state=attempt.state, outcome=attempt.outcome,
                                phase=phase, started_at=attempt.created_at, ended_at=attempt.ended_at,
                                calls=[call_summary(r) for r in records]))
    return Callback(
        id=request.id, merchant_id=request.merchant_id, status=request.status, due_at=request.due_at,
        asap=request.asap, window=Window(start=request.window_start, end=request.window_end),
        order_ref=request.order_ref, note=request.note, reason=request.reason, attempts=attempts,
        created_at=request.created_at, ended_at=request.ended_at,
        call_phase=call_phase(request, phases), waiting_reason=waiting_reason,
    )
