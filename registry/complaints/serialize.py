"""JSON shape of a complaint."""

from registry.calllog.serialize import iso
from registry.complaints.models import Complaint


def complaint(item: Complaint) -> dict:
    return {
        "id": item.id, "filed_by": item.filed_by, "merchant_id": item.merchant_id,
        "call_record_id": item.call_record_id, "callback_request_id": item.callback_request_id,
        "category": item.category, "text": item.text, "status": item.status,
        "assignee_id": item.assignee_id, "action": item.action, "resolution": item.resolution,
        "created_at": iso(item.created_at), "resolved_at": iso(item.resolved_at),
    }
