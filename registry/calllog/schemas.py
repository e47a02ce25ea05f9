"""JSON shapes of call records and their events (masked numbers only), as `core.openapi` models."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import select

from registry.calllog.models import CallEvent, CallRecord
from registry.core.extensions import db
from registry.core.openapi import ApiModel, Timestamp


class CallRecordSummary(ApiModel):
    """One call leg of the log: who (masked), through which proxy, how it went."""

    id: int
    call_sid: str
    parent_call_sid: str | None
    kind: str
    direction: str | None
    status: str
    from_: str | None = Field(alias="from")
    to: str | None
    proxy_number: str | None
    merchant_id: int | None
    callback_request_id: int | None
    created_at: Timestamp | None
    answered_at: Timestamp | None
    ended_at: Timestamp | None
    duration: int | None
    has_recording: bool

    @classmethod
    def of(cls, record: CallRecord) -> CallRecordSummary:
        return cls.model_validate({
            "id": record.id, "call_sid": record.call_sid, "parent_call_sid": record.parent_call_sid,
            "kind": record.kind, "direction": record.direction, "status": record.status,
            "from": record.from_masked, "to": record.to_masked, "proxy_number": record.proxy_number,
            "merchant_id": record.merchant_id, "callback_request_id": record.callback_request_id,
            "created_at": record.created_at, "answered_at": record.answered_at,
            "ended_at": record.ended_at, "duration": record.duration_seconds,
            "has_recording": bool(record.recording_url)})


class CallEventShown(ApiModel):
    """One event of a leg's hash chain."""

    seq: int | None = Field(description="Its place in the chain; null until the sealer links it.")
    kind: str
    source: str
    data: dict[str, Any] | None
    recorded_at: Timestamp | None
    hash: str | None


class CallRecordDetail(CallRecordSummary):
    """A call leg with its chained events, oldest first."""

    events: list[CallEventShown]

    @classmethod
    def of(cls, record: CallRecord) -> CallRecordDetail:
        events = db.session.scalars(select(CallEvent).where(CallEvent.call_sid == record.call_sid)
                                    .order_by(CallEvent.id)).all()
        shown = [CallEventShown(seq=e.seq, kind=e.kind, source=e.source, data=e.data,
                                recorded_at=e.recorded_at, hash=e.hash) for e in events]
        summary = CallRecordSummary.of(record).model_dump(by_alias=True)
        return cls.model_validate({**summary, "events": shown})
