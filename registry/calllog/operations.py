"""Writing the call log: legs and their status, each change also a chained event."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, case, func, select

from registry.calllog import chain
from registry.calllog.models import FINAL_STATUSES, STATUS_RANK, CallRecord
from registry.core import dialects
from registry.core.extensions import db
from registry.core.phones import get_cipher, mask
from registry.core.timeutil import utcnow


def _masked(e164: str | None) -> str | None:
    return mask(e164) if e164 and e164.startswith("+") else None


def open_leg(call_sid: str, *, kind: str, direction: str, from_number: str | None,
             to_number: str | None, status: str, proxy_number: str | None = None,
             parent_call_sid: str | None = None, binding_id: int | None = None,
             merchant_id: int | None = None) -> CallRecord:
    """The record for `call_sid`, created on first sight (webhooks may repeat)."""
    record = db.session.scalar(select(CallRecord).where(CallRecord.call_sid == call_sid))
    if record is not None:
        return record
    cipher = get_cipher()
    valid_from = from_number if from_number and from_number.startswith("+") else None
    valid_to = to_number if to_number and to_number.startswith("+") else None
    record = CallRecord(
        call_sid=call_sid, parent_call_sid=parent_call_sid, kind=kind, direction=direction,
        proxy_number=proxy_number, from_masked=_masked(valid_from), to_masked=_masked(valid_to),
        from_number=valid_from, to_number=valid_to,
        from_hash=cipher.lookup_hash(valid_from) if valid_from else None,
        to_hash=cipher.lookup_hash(valid_to) if valid_to else None,
        binding_id=binding_id, merchant_id=merchant_id,
        status=status if status in STATUS_RANK else "queued",
    )
    db.session.add(record)
    db.session.flush()
    return record


LEG_FIELDS = ("call_sid", "kind", "direction", "proxy_number", "from_masked", "to_masked", "from_encrypted",
              "to_encrypted", "from_hash", "to_hash", "binding_id", "merchant_id", "status", "created_at")


@cache
def _inbound_leg_statement(flavour: str):
    """INSERT the leg, values bound as `leg_<field>`; a repeated delivery only adds what it learnt."""
    table = CallRecord.__table__
    statement = dialects.insert(table, flavour).values({f: bindparam("leg_" + f) for f in LEG_FIELDS})
    new = statement.excluded
    return statement.on_conflict_do_update(index_elements=["call_sid"], set_={
        "kind": case((new.kind == "intercepted", new.kind), else_=table.c.kind),
        "binding_id": func.coalesce(table.c.binding_id, new.binding_id),
        "merchant_id": func.coalesce(table.c.merchant_id, new.merchant_id),
    })


@cache
def _routing_log_statement():
    """PostgreSQL: the leg and the routing event in one statement (a data-modifying WITH)."""
    return chain.append_statement(dialects.POSTGRESQL, True, "event_").add_cte(
        _inbound_leg_statement(dialects.POSTGRESQL).cte("leg"))


def log_routed_call(call_sid: str, *, intercepted: bool, from_number: str | None,
                    proxy_number: str | None, binding_id: int | None, merchant_id: int | None,
                    event: dict, dedupe_key: str) -> None:
    """Log a call to a proxy number as it rings, and the routing decision `event`: the
    routing fast path, one statement on PostgreSQL.

    A repeated delivery changes nothing, except what a later step of the same
    call learnt: an extension typed after the prompt names the binding, or
    makes the call intercepted.
    """
    valid_from = from_number if from_number and from_number.startswith("+") else None
    cipher = get_cipher()
    leg = {
        "call_sid": call_sid, "kind": "intercepted" if intercepted else "relay", "direction": "inbound",
        "proxy_number": proxy_number, "from_masked": _masked(valid_from), "to_masked": _masked(proxy_number),
        "from_encrypted": valid_from, "to_encrypted": proxy_number,
        "from_hash": cipher.lookup_hash(valid_from) if valid_from else None,
        "to_hash": cipher.lookup_hash(proxy_number) if proxy_number else None,
        "binding_id": binding_id, "merchant_id": merchant_id, "status": "ringing", "created_at": utcnow(),
    }
    leg = {"leg_" + key: value for key, value in leg.items()}
    connection = db.session.connection()
    if dialects.is_postgresql(connection):
        connection.execute(_routing_log_statement(), leg | chain.event_values(
            "routing", "app", event, call_sid, dedupe_key, prefix="event_"))
        return
    flavour = dialects.flavour(connection)
    connection.execute(_inbound_leg_statement(flavour), leg)
    connection.execute(chain.append_statement(flavour, True),
                       chain.event_values("routing", "app", event, call_sid, dedupe_key))


def advance_status(record: CallRecord, status: str, *, at: datetime | None = None,
                   duration: int | None = None) -> bool:
    """Move a leg's status forward; a late or repeated callback changes nothing."""
    if status not in STATUS_RANK or record.status in FINAL_STATUSES:
        return False
    if STATUS_RANK[status] <= STATUS_RANK.get(record.status, -1):
        return False
    at = at or utcnow()
    record.status = status
    if status == "in-progress" and record.answered_at is None:
        record.answered_at = at
    if status in FINAL_STATUSES:
        record.ended_at = at
        if duration is not None:
            record.duration_seconds = duration
    db.session.flush()
    return True


def delivery_key(*parts: object) -> str:
    """A stable key for one webhook delivery, so a retried one is stored once."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def log_event(kind: str, data: dict, *, call_sid: str | None = None, source: str = "app",
              dedupe_key: str | None = None):
    """Append an event to the chained log (None if it was already stored)."""
    return chain.append(kind, source, data, call_sid=call_sid, dedupe_key=dedupe_key)
