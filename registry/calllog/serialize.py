"""JSON shapes of call records and events (masked numbers only)."""

from sqlalchemy import select

from registry.calllog.models import CallEvent, CallRecord
from registry.core.extensions import db
from registry.core.timeutil import as_utc


def iso(value):
    return as_utc(value).isoformat() if value is not None else None


def call_record(record: CallRecord) -> dict:
    return {
        "id": record.id, "call_sid": record.call_sid, "parent_call_sid": record.parent_call_sid,
        "kind": record.kind, "direction": record.direction, "status": record.status,
        "from": record.from_masked, "to": record.to_masked, "proxy_number": record.proxy_number,
        "merchant_id": record.merchant_id, "callback_request_id": record.callback_request_id,
        "created_at": iso(record.created_at), "answered_at": iso(record.answered_at),
        "ended_at": iso(record.ended_at), "duration": record.duration_seconds,
        "has_recording": bool(record.recording_url),
    }


def event(item: CallEvent) -> dict:
    return {"seq": item.seq, "kind": item.kind, "source": item.source, "data": item.data,
            "recorded_at": iso(item.recorded_at), "hash": item.hash}


def call_record_detail(record: CallRecord) -> dict:
    events = db.session.scalars(select(CallEvent).where(CallEvent.call_sid == record.call_sid)
                                .order_by(CallEvent.id)).all()
    return {**call_record(record), "events": [event(e) for e in events]}
