"""`call.completed`: a call leg's record is final (the call log's status moved to a final one).

Emitted by the feature whose leg it is (masking's relay legs, a callback's two legs), in the
transaction that records the final status. The numbers are the record's masked ones."""

from __future__ import annotations

from registry.calllog.models import FINAL_STATUSES, CallRecord
from registry.webhooks.events import emit, iso


def call_completed(record: CallRecord, moved: bool, order_ref: str | None = None) -> None:
    """Emit `call.completed` if the leg's status has just moved to a final one."""
    if not moved or record.status not in FINAL_STATUSES:
        return
    emit("call.completed", {
        "call_record_id": record.id, "kind": record.kind, "direction": record.direction,
        "status": record.status, "duration": record.duration_seconds,
        "from": record.from_masked, "to": record.to_masked, "merchant_id": record.merchant_id,
        "binding_id": record.binding_id, "callback_id": record.callback_request_id, "order_ref": order_ref,
        "answered_at": iso(record.answered_at), "ended_at": iso(record.ended_at)})
