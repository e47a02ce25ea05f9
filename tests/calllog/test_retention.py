"""Retention: expired personal data is removed, and the chain still verifies."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from registry.calllog.chain import seal_pending
from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.operations import log_event
from registry.calllog.recordings import file_for, local_path
from registry.calllog.verification import verify
from registry.complaints.search import CallSearch, search
from registry.core.phones import get_cipher
from registry.core.timeutil import utcnow
from registry.scheduler import JOBS, run_job
from tests.factories import make_call_record, make_merchant

SHOPPER = "+8613700137000"
RETENTION = next(job for job in JOBS if job.name == "retention")


@pytest.fixture
def storage(app, tmp_path):
    app.config["RECORDINGS_DIR"] = str(tmp_path / "recordings")
    (tmp_path / "recordings").mkdir()
    return tmp_path / "recordings"


def leg(db, merchant, *, days_old: int, recording: str | None = None):
    """A call leg from `days_old` days ago with two chained events, and its stored recording."""
    record = make_call_record(merchant, from_number=SHOPPER)
    log_event("status", {"status": "ringing", "from_masked": record.from_masked}, call_sid=record.call_sid)
    log_event("status", {"status": "completed", "from_masked": record.from_masked}, call_sid=record.call_sid)
    then = utcnow() - timedelta(days=days_old)
    record.created_at = then
    if recording:
        record.recording_sid, record.recording_url = recording, f"https://api.twilio.com/x/{recording}"
        record.recording_status = "stored"
        file_for(recording).write_bytes(b"RIFF....WAVE")
    db.session.commit()
    # Backdated before they are sealed: the chain is then exactly what it would be had
    # the events been recorded then.
    db.session.execute(update(CallEvent).where(CallEvent.call_sid == record.call_sid)
                       .values(recorded_at=then))
    db.session.commit()
    seal_pending()
    assert verify().ok
    return record


def test_old_call_records_lose_their_numbers_and_events_their_content(app, db, storage):
    store = make_merchant()
    old, recent = leg(db, store, days_old=731), leg(db, store, days_old=30)
    phone_hash = get_cipher().lookup_hash(SHOPPER)
    assert len(search(CallSearch(phone_hashes=(phone_hash,)))[0]) == 2

    result = run_job(app, RETENTION)
    assert (result.records_erased, result.events_redacted) == (1, 2)
    db.session.expire_all()
    old, recent = db.session.get(CallRecord, old.id), db.session.get(CallRecord, recent.id)
    assert old.erased_at is not None and old.call_sid and old.status == "completed"
    assert (old.from_number, old.to_number, old.from_hash, old.to_hash, old.from_masked, old.to_masked) == \
        (None,) * 6
    assert recent.from_number == SHOPPER and recent.erased_at is None
    assert [r.id for r in search(CallSearch(phone_hashes=(phone_hash,)))[0]] == [recent.id]

    events = db.session.scalars(select(CallEvent).order_by(CallEvent.seq)).all()
    old_events = [e for e in events if e.call_sid == old.call_sid]
    assert all(e.data == {} and e.redacted_at is not None for e in old_events)
    kept = [e for e in events if e.call_sid == recent.call_sid]
    assert all(e.data["from_masked"] and e.redacted_at is None for e in kept)
    assert verify().ok  # a removed event keeps its digest and hash

    again = run_job(app, RETENTION)
    assert not again and again.records_erased == again.events_redacted == 0


def test_recordings_past_six_months_are_deleted(app, db, storage):
    store = make_merchant()
    old = leg(db, store, days_old=184, recording="RE" + "a" * 32)
    recent = leg(db, store, days_old=182, recording="RE" + "b" * 32)
    never_copied = leg(db, store, days_old=200)
    db.session.execute(update(CallRecord).where(CallRecord.id == never_copied.id).values(
        recording_url="https://api.twilio.com/x/RE" + "c" * 32, recording_sid="RE" + "c" * 32,
        recording_status="pending"))
    db.session.commit()

    result = run_job(app, RETENTION)
    assert result.recordings_deleted == 2 and result.records_erased == 0
    db.session.expire_all()
    old, recent = db.session.get(CallRecord, old.id), db.session.get(CallRecord, recent.id)
    assert old.recording_status == "deleted" and local_path(old) is None
    assert not file_for("RE" + "a" * 32).exists()
    assert local_path(recent).is_file()
    assert db.session.get(CallRecord, never_copied.id).recording_status == "deleted"  # no longer fetched
    deleted = db.session.scalars(select(CallEvent).where(CallEvent.kind == "recording")).one()
    assert deleted.data == {"event": "deleted", "reason": "retention", "recording_sid": "RE" + "a" * 32}
    assert verify().ok


def test_the_periods_come_from_configuration(app, db, storage, tmp_path):
    from registry.core.config import load_config

    config = load_config(tmp_path, {"RETENTION_CALL_RECORDS_DAYS": "10", "RETENTION_RECORDINGS_DAYS": "5"})
    assert (config["RETENTION_CALL_RECORDS_DAYS"], config["RETENTION_RECORDINGS_DAYS"]) == (10, 5)
    defaults = load_config(tmp_path, {})
    assert (defaults["RETENTION_CALL_RECORDS_DAYS"], defaults["RETENTION_RECORDINGS_DAYS"]) == (730, 183)
    app.config.update(RETENTION_CALL_RECORDS_DAYS=10, RETENTION_RECORDINGS_DAYS=5)
    store = make_merchant()
    old = leg(db, store, days_old=11, recording="RE" + "d" * 32)
    kept = leg(db, store, days_old=4, recording="RE" + "e" * 32)
    result = run_job(app, RETENTION)
    assert (result.recordings_deleted, result.records_erased, result.events_redacted) == (1, 1, 2)
    db.session.expire_all()
    assert db.session.get(CallRecord, old.id).erased_at is not None
    assert local_path(db.session.get(CallRecord, kept.id)).is_file()
    assert verify().ok
