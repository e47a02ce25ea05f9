"""The hash chain over call events: appending and verifying."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry.calllog.models import CallEvent, ChainHead
from registry.extensions import db
from registry.timeutil import as_utc, utcnow

GENESIS = "0" * 64


def canonical(seq: int, call_sid: str | None, kind: str, source: str, data: dict,
              dedupe_key: str | None, recorded_at: datetime) -> bytes:
    """The bytes an event's hash covers: every field, in a fixed JSON form."""
    return json.dumps(
        {"seq": seq, "call_sid": call_sid, "kind": kind, "source": source, "data": data,
         "dedupe_key": dedupe_key, "recorded_at": as_utc(recorded_at).isoformat(timespec="microseconds")},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


def digest_of(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def link(digest: str, prev_hash: str) -> str:
    return hashlib.sha256(bytes.fromhex(digest) + bytes.fromhex(prev_hash)).hexdigest()


def _lock_head() -> ChainHead:
    query = select(ChainHead).where(ChainHead.id == 1).with_for_update()
    head = db.session.scalars(query).first()
    if head is None:
        try:
            with db.session.begin_nested():
                db.session.add(ChainHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass
        head = db.session.scalars(query).one()
    return head


def append(kind: str, source: str, data: dict, call_sid: str | None = None,
           dedupe_key: str | None = None) -> CallEvent | None:
    """Append an event; None if an event with `dedupe_key` is already stored.

    The chain head is locked for the rest of the transaction, so events are
    appended one at a time in commit order.
    """
    if dedupe_key and _exists(dedupe_key):
        return None
    head = _lock_head()
    if dedupe_key and _exists(dedupe_key):  # stored while we waited for the lock
        return None
    seq, recorded_at = head.seq + 1, utcnow()
    digest = digest_of(canonical(seq, call_sid, kind, source, data, dedupe_key, recorded_at))
    event = CallEvent(seq=seq, call_sid=call_sid, kind=kind, source=source, data=data,
                      dedupe_key=dedupe_key, recorded_at=recorded_at, digest=digest, prev_hash=head.hash,
                      hash=link(digest, head.hash))
    head.seq, head.hash = seq, event.hash
    db.session.add(event)
    db.session.flush()
    return event


def _exists(dedupe_key: str) -> bool:
    return db.session.scalar(select(CallEvent.id).where(CallEvent.dedupe_key == dedupe_key)) is not None


@dataclass(frozen=True)
class ChainReport:
    events: int
    broken_at: int | None  # the seq of the first event that does not verify
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(events: Iterable[CallEvent] | None = None, head: ChainHead | None = None) -> ChainReport:
    """Walk the chain in `seq` order; report the first broken link, if any."""
    if events is None:
        events = db.session.scalars(
            select(CallEvent).order_by(CallEvent.seq).execution_options(yield_per=5000))
    prev, expected_seq, count = GENESIS, 1, 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(count, expected_seq, f"event {expected_seq} is missing")
        if event.redacted_at is None:
            payload = canonical(event.seq, event.call_sid, event.kind, event.source, event.data,
                                event.dedupe_key, event.recorded_at)
            if digest_of(payload) != event.digest:
                return ChainReport(count, event.seq, f"event {event.seq} was altered")
        if event.prev_hash != prev or link(event.digest, prev) != event.hash:
            return ChainReport(count, event.seq, f"event {event.seq} was altered")
        prev, expected_seq, count = event.hash, expected_seq + 1, count + 1
    head = head or db.session.get(ChainHead, 1)
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(count, count + 1, f"events after {count} were removed")
    return ChainReport(count, None, None)
