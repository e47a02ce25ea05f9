"""JSON shapes of callback requests (masked numbers only)."""

from sqlalchemy import select

from registry.callbacks.models import CallbackRequest
from registry.calllog.models import CallRecord
from registry.core.extensions import db
from registry.core.timeutil import as_utc


def iso(value):
    return as_utc(value).isoformat() if value is not None else None


def call_summary(record: CallRecord) -> dict:
    return {"id": record.id, "call_sid": record.call_sid, "kind": record.kind, "status": record.status,
            "from": record.from_masked, "to": record.to_masked, "duration": record.duration_seconds,
            "started_at": iso(record.created_at), "answered_at": iso(record.answered_at),
            "ended_at": iso(record.ended_at)}


def callback(request: CallbackRequest) -> dict:
    attempts = []
    for attempt in request.attempts:
        sids = [s for s in (attempt.merchant_call_sid, attempt.shopper_call_sid) if s]
        records = db.session.scalars(select(CallRecord).where(CallRecord.call_sid.in_(sids))
                                     .order_by(CallRecord.id)).all() if sids else []
        attempts.append({"number": attempt.seq, "state": attempt.state, "outcome": attempt.outcome,
                         "started_at": iso(attempt.created_at), "ended_at": iso(attempt.ended_at),
                         "calls": [call_summary(r) for r in records]})
    return {
        "id": request.id, "merchant_id": request.merchant_id, "status": request.status,
        "due_at": iso(request.due_at), "asap": request.asap,
        "window": {"start": iso(request.window_start), "end": iso(request.window_end)},
        "order_ref": request.order_ref, "note": request.note, "reason": request.reason,
        "attempts": attempts, "created_at": iso(request.created_at), "ended_at": iso(request.ended_at),
    }
