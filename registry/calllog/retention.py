"""Retention: personal data in the call log is kept only as long as configured.

- Recordings of calls older than `RETENTION_RECORDINGS_DAYS` (6 months by
  default): the stored copy (file or object) is deleted and the leg marked `deleted`; a
  recording never copied by then is marked so too, and no longer fetched.
- Call records older than `RETENTION_CALL_RECORDS_DAYS` (24 months): the
  encrypted numbers, their keyed hashes and masked forms are erased
  (`erased_at`), and call events recorded before then are redacted: their
  `data` becomes `{}` and `redacted_at` is set, while `digest`, `prev_hash`
  and `hash` stay, so `calllog verify` still proves the chain intact.

The record itself (SIDs, kind, status, times, duration) stays: it is what a
complaint or an audit refers to, and it identifies no one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.operations import delivery_key, log_event
from registry.calllog.recordings import recording_sid
from registry.calllog.storage import StorageError, get_storage
from registry.core.extensions import db
from registry.core.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionResult:
    recordings_deleted: int
    records_erased: int
    events_redacted: int

    def __bool__(self) -> bool:
        return bool(self.recordings_deleted or self.records_erased or self.events_redacted)


def delete_old_recordings(cutoff: datetime, batch: int = 1000) -> int:
    """Delete stored recordings of calls started before `cutoff`; returns how many legs changed.

    A copy the store fails to delete is left as it is (logged) and tried again on the next run."""
    query = (select(CallRecord).where(CallRecord.created_at < cutoff, CallRecord.recording_url.is_not(None))
             .where((CallRecord.recording_status.is_(None)) | (CallRecord.recording_status != "deleted"))
             .order_by(CallRecord.id).limit(batch))
    storage, count, kept = get_storage(), 0, []
    while records := db.session.scalars(query.where(CallRecord.id.not_in(kept)) if kept else query).all():
        for record in records:
            sid = recording_sid(record)
            if sid is not None:
                try:
                    storage.delete(sid)  # the copy first: a failed commit only repeats this
                except StorageError as exc:
                    log.warning("retention: recording of call record %s (%s) not deleted: %s",
                                record.id, sid, exc)
                    kept.append(record.id)
                    continue
            if record.recording_status == "stored":
                log_event("recording", {"event": "deleted", "reason": "retention", "recording_sid": sid},
                          call_sid=record.call_sid, dedupe_key=delivery_key(sid, "recording-deleted"))
            record.recording_status, record.recording_retry_at = "deleted", None
            count += 1
        db.session.flush()
    return count


def erase_old_records(cutoff: datetime, now: datetime) -> int:
    """Erase the numbers of call legs started before `cutoff`; returns how many."""
    return db.session.execute(
        update(CallRecord).where(CallRecord.created_at < cutoff, CallRecord.erased_at.is_(None))
        .values(from_number=None, to_number=None, from_hash=None, to_hash=None, from_masked=None,
                to_masked=None, erased_at=now)
        .execution_options(synchronize_session=False)).rowcount


def redact_old_events(cutoff: datetime, now: datetime) -> int:
    """Redact call events recorded before `cutoff`, keeping their digests and links."""
    return db.session.execute(
        update(CallEvent).where(CallEvent.recorded_at < cutoff, CallEvent.redacted_at.is_(None),
                                CallEvent.seq.is_not(None))  # sealed first: the digest witnesses the content
        .values(data={}, redacted_at=now)
        .execution_options(synchronize_session=False)).rowcount


def apply_retention(*, records_days: int, recordings_days: int,
                    now: datetime | None = None) -> RetentionResult:
    """Remove what has passed its retention period (flushed; the caller commits)."""
    now = now or utcnow()
    return RetentionResult(
        recordings_deleted=delete_old_recordings(now - timedelta(days=recordings_days)),
        records_erased=erase_old_records(now - timedelta(days=records_days), now),
        events_redacted=redact_old_events(now - timedelta(days=records_days), now),
    )


def retention_job(app: Flask) -> RetentionResult:
    """The daily job, with the configured periods."""
    return apply_retention(records_days=app.config["RETENTION_CALL_RECORDS_DAYS"],
                           recordings_days=app.config["RETENTION_RECORDINGS_DAYS"])
