"""Call recordings in the platform's own storage.

When Twilio reports a recording (the webhooks set `recording_url`), the
copy job downloads its audio with the account's credentials and keeps it in
the configured store (`storage.py`: `RECORDINGS_DIR/<RecordingSid>.wav` on
local disk, or an object in S3-compatible storage): the provider's URL does
not last, the evidence must. A copy is stored whole or not at all, so a
reader never sees half of one. A failed download is retried with
back-off, up to `RECORDING_COPY_MAX_ATTEMPTS`. A stored copy's SHA-256 goes
into the hash-chained call log, so the audio is as tamper-evident as the
events. Nothing here logs a phone number: only record ids and SIDs.

Whoever must hear of a stored copy (the `recording.ready` webhook, from a
layer above) registers a hook with `on_stored(app, hook)`; hooks run in the
copy's transaction, so a copy rolled back announces nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from registry.calllog.models import CallRecord
from registry.calllog.operations import delivery_key, log_event
from registry.calllog.storage import StorageError, get_storage, local_folder
from registry.core.extensions import db
from registry.core.timeutil import utcnow

log = logging.getLogger(__name__)

RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
BATCH = 20
MAX_RETRY_DELAY = timedelta(hours=6)
# The queue the copy job works through (matches the partial index `ix_call_records_recording_due`).
_DUE = (CallRecord.recording_url.is_not(None)
        & or_(CallRecord.recording_status.is_(None), CallRecord.recording_status == "pending"))


def storage_dir() -> Path:
    """Where recordings are kept on local disk: `RECORDINGS_DIR`, or `recordings/` in the instance folder."""
    return local_folder()


def recording_sid(record: CallRecord) -> str | None:
    """The leg's RecordingSid (from the webhook, else from its URL), if it is a well-formed one."""
    sid = record.recording_sid
    if not sid and record.recording_url:
        sid = record.recording_url.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]
    return sid if sid and RECORDING_SID.match(sid) else None


def file_for(sid: str) -> Path:
    return storage_dir() / f"{sid}.wav"


def stored_sid(record: CallRecord) -> str | None:
    """The SID under which the leg's recording is stored, or None if none is kept (yet, or any more)."""
    sid = recording_sid(record)
    return sid if record.recording_status == "stored" else None


def local_path(record: CallRecord) -> Path | None:
    """The stored copy of the leg's recording on local disk, or None if none is kept there."""
    sid = stored_sid(record)
    if sid is None or get_storage().name != "local":
        return None
    return file_for(sid)


@dataclass(frozen=True)
class StoredRecording:
    """What a hook hears of a copy just stored (no phone number)."""

    record_id: int
    call_sid: str
    merchant_id: int | None
    callback_request_id: int | None
    duration_seconds: int | None
    recording_sid: str
    sha256: str
    size: int
    stored_at: datetime


_HOOKS = "calllog.recording_stored"


def on_stored(app: Flask, hook: Callable[[StoredRecording], None]) -> None:
    """Call `hook` for each recording this app stores, in the transaction that records it."""
    app.extensions.setdefault(_HOOKS, []).append(hook)


@dataclass
class _Outcome:
    record_id: int
    call_sid: str
    sid: str | None
    attempts: int
    sha256: str | None = None
    size: int = 0
    error: str | None = None
    retryable: bool = field(default=True)
    record: CallRecord | None = None


def _download(gateway, record: CallRecord, sid: str) -> _Outcome:
    """Fetch one recording into the store (whole or not at all); the outcome says how it went."""
    from registry.telephony import ProviderError, RefusedHost

    outcome = _Outcome(record.id, record.call_sid, sid, record.recording_attempts + 1, record=record)
    try:
        with get_storage().writer(sid) as out:
            hashing = _HashingWriter(out)
            outcome.size = gateway.download_recording(record.recording_url, hashing)
            if outcome.size == 0:
                raise ProviderError("the recording was empty", status=200)
        outcome.sha256 = hashing.hexdigest()
    except RefusedHost as exc:
        outcome.error, outcome.retryable = str(exc), False
    except ProviderError as exc:
        outcome.error = str(exc)
    except StorageError as exc:
        outcome.error = f"storage: {exc}"
    except OSError as exc:
        outcome.error = f"storage: {type(exc).__name__}"
    return outcome


class _HashingWriter:
    """A file wrapper that hashes what passes through it."""

    def __init__(self, out):
        self._out, self._hash = out, hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self._hash.update(chunk)
        return self._out.write(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def copy_due(gateway, *, max_attempts: int, retry_seconds: int, now: datetime | None = None,
             limit: int = BATCH) -> dict[str, int]:
    """Copy recordings not yet stored whose (re)try is due; returns counts by outcome.

    Every download happens before any row is written, so no row lock is held
    while waiting on the network; each row then changes only if it is still
    waiting (a second scheduler that copied it meanwhile wins, harmlessly).
    """
    now = now or utcnow()
    query = (select(CallRecord).where(_DUE)
             .where(or_(CallRecord.recording_retry_at.is_(None), CallRecord.recording_retry_at <= now))
             .order_by(CallRecord.id).limit(limit))
    outcomes = []
    for record in db.session.scalars(query).all():
        sid = recording_sid(record)
        if sid is None:
            outcomes.append(_Outcome(record.id, record.call_sid, None, record.recording_attempts + 1,
                                     error="no valid RecordingSid", retryable=False))
        else:
            outcomes.append(_download(gateway, record, sid))
    counts = {"stored": 0, "retry": 0, "failed": 0}
    for outcome in outcomes:
        counts[_settle(outcome, now, max_attempts, retry_seconds)] += 1
    return {k: v for k, v in counts.items() if v}


def _settle(outcome: _Outcome, now: datetime, max_attempts: int, retry_seconds: int) -> str:
    """Write one outcome to its row (if still waiting); log it, chain a stored copy."""
    if outcome.sha256 is not None:
        kind, values = "stored", {"recording_status": "stored", "recording_stored_at": now,
                                  "recording_sha256": outcome.sha256, "recording_retry_at": None}
    elif outcome.retryable and outcome.attempts < max_attempts:
        delay = min(timedelta(seconds=retry_seconds * 2 ** (outcome.attempts - 1)), MAX_RETRY_DELAY)
        kind, values = "retry", {"recording_status": "pending", "recording_retry_at": now + delay}
    else:
        kind, values = "failed", {"recording_status": "failed", "recording_retry_at": None}
    changed = db.session.execute(
        update(CallRecord).where(CallRecord.id == outcome.record_id, _DUE)
        .values(recording_attempts=outcome.attempts, **values)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        return kind
    if kind == "stored":
        log_event("recording", {"event": "stored", "recording_sid": outcome.sid, "sha256": outcome.sha256,
                                "bytes": outcome.size}, call_sid=outcome.call_sid,
                  dedupe_key=delivery_key(outcome.sid, "recording-stored"))
        _announce(outcome, now)
    else:
        log.warning("recording copy for call record %s (%s), attempt %s: %s%s", outcome.record_id,
                    outcome.sid, outcome.attempts, outcome.error, "" if kind == "retry" else "; giving up")
    return kind


def _announce(outcome: _Outcome, now: datetime) -> None:
    record = outcome.record
    stored = StoredRecording(outcome.record_id, outcome.call_sid, record.merchant_id if record else None,
                             record.callback_request_id if record else None,
                             record.duration_seconds if record else None, outcome.sid, outcome.sha256,
                             outcome.size, now)
    for hook in current_app.extensions.get(_HOOKS, ()):
        hook(stored)


def copy_recordings(app: Flask) -> dict[str, int]:
    """The scheduler job: copy the recordings that are due."""
    from registry.telephony import get_gateway

    return copy_due(get_gateway(), max_attempts=app.config["RECORDING_COPY_MAX_ATTEMPTS"],
                    retry_seconds=app.config["RECORDING_COPY_RETRY_SECONDS"])
