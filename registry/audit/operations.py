"""Staff actions and their audit trail."""

from __future__ import annotations

from sqlalchemy import select

from registry.audit.models import StaffAudit
from registry.core.errors import InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse

MIN_REASON = 10


def audit(staff_id: int, action: str, target: str | None = None, reason: str | None = None,
          detail: dict | None = None) -> StaffAudit:
    entry = StaffAudit(staff_id=staff_id, action=action, target=target, reason=reason, detail=detail or {})
    db.session.add(entry)
    db.session.flush()
    return entry


def require_reason(reason: object) -> str:
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
        raise InvalidInput("invalid.reason_short", field="reason", minimum=MIN_REASON)
    if len(reason) > 500:
        raise InvalidInput("invalid.reason_long", field="reason", limit=500)
    return reason.strip()


def reveal_call_number(staff_id: int, record_id: int, side: object, reason: object) -> str:
    """A call leg's real number, for a stated reason that is audited."""
    from registry.calllog.models import CallRecord

    reason = require_reason(reason)
    if side not in ("from", "to"):
        raise InvalidInput("invalid.reveal_side", field="side")
    record = get_or_refuse(CallRecord, record_id, "not_found.call_record")
    number = record.from_number if side == "from" else record.to_number
    if number is None:
        raise NotFound("not_found.no_number", field="side")
    audit(staff_id, "reveal", f"call_record:{record.id}:{side}", reason)
    return number


def audit_log(limit: int = 100, before_id: int | None = None) -> list[StaffAudit]:
    query = select(StaffAudit).order_by(StaffAudit.id.desc()).limit(limit)
    if before_id:
        query = query.where(StaffAudit.id < before_id)
    return list(db.session.scalars(query))
