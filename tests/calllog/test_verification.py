"""Verifying the chain: the daily job keeps its outcome; the fast, parallel walk reports
exactly what a plain sequential walk does; PostgreSQL refuses edits outright."""

import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from registry.calllog import verification
from registry.calllog.chain import (
    GENESIS,
    append,
    canonical,
    check_rows,
    digest_of,
    link,
    seal_pending,
)
from registry.calllog.models import CallEvent, ChainHead
from registry.calllog.verification import last_result, verify
from registry.scheduler import JOBS, run_job
from tests.conftest import TEST_DATABASE_URL, make_test_app

VERIFY = next(job for job in JOBS if job.name == "verify-call-log")


def fill(db, n=5):
    for i in range(n):
        append("status", "twilio", {"status": "ringing", "i": i, "masked": "+86 137****7000"},
               call_sid=f"CA{i:032d}", dedupe_key=f"k{i}")
    db.session.commit()
    seal_pending()


def reference(events, head):
    """The plain sequential walk, as `verify` was first written: the oracle."""
    prev, expected, count = GENESIS, 1, 0
    for e in events:
        if e.seq != expected:
            return count, expected
        if e.redacted_at is None and digest_of(canonical(e.seq, e.call_sid, e.kind, e.source, e.data,
                                                          e.dedupe_key, e.recorded_at)) != e.digest:
            return count, e.seq
        if e.prev_hash != prev or link(e.digest, prev) != e.hash:
            return count, e.seq
        prev, expected, count = e.hash, expected + 1, count + 1
    if head is not None and (head.seq != count or head.hash != prev):
        return count, count + 1
    return count, None


def stored_reference(db):
    db.session.expire_all()
    return reference(db.session.scalars(select(CallEvent).order_by(CallEvent.seq)).all(),
                     db.session.get(ChainHead, 1))


def test_the_daily_job_keeps_an_intact_result(app, db):
    assert last_result() is None
    fill(db)
    assert run_job(app, VERIFY).startswith("intact, 5 events")
    result = last_result()
    assert (result.ok, result.events, result.broken_at, result.reason) == (True, 5, None, None)
    assert result.ran_at is not None and result.seconds >= 0


@pytest.mark.parametrize(("tamper", "broken_at", "reason"), [
    ("UPDATE call_events SET data = '{\"status\": \"busy\"}' WHERE seq = 3", 3, "event 3 was altered"),
    ("DELETE FROM call_events WHERE seq = 2", 2, "event 2 is missing"),
    ("DELETE FROM call_events WHERE seq = 5", 5, "events after 4 were removed"),
])
def test_a_tampered_row_is_named_in_the_kept_result(app, db, tamper, broken_at, reason):
    fill(db)
    run_job(app, VERIFY)
    db.session.execute(text(tamper))
    db.session.commit()
    assert run_job(app, VERIFY) == f"BROKEN at event {broken_at}: {reason}"
    result = last_result()
    assert (result.ok, result.broken_at, result.reason) == (False, broken_at, reason)
    assert result.events == broken_at - 1


def test_calllog_verify_keeps_its_result_too(runner, db):
    fill(db, 3)
    outcome = runner.invoke(args=["calllog", "verify"])
    assert outcome.exit_code == 0 and "3 events verified" in outcome.output
    assert last_result().ok and last_result().events == 3


# --- the fast walk is exact ----------------------------------------------------

def test_event_data_is_stored_canonically_and_other_text_forms_still_verify(db):
    fill(db, 3)
    stored = db.session.execute(text("SELECT CAST(data AS TEXT) FROM call_events WHERE seq = 1")).scalar()
    assert stored == '{"i":0,"masked":"+86 137****7000","status":"ringing"}'
    assert db.session.scalars(select(CallEvent).where(CallEvent.seq == 1)).one().data == \
        {"status": "ringing", "i": 0, "masked": "+86 137****7000"}
    # Rows stored before `CanonicalJSON` (SQLAlchemy's default form) verify through parsing.
    db.session.execute(text("UPDATE call_events SET data = :d WHERE seq = 2"),
                       {"d": '{"status": "ringing", "i": 1, "masked": "+86 137****7000"}'})
    db.session.commit()
    assert verify().ok
    db.session.execute(text("UPDATE call_events SET data = :d WHERE seq = 2"),
                       {"d": '{"status": "ringing", "i": 1, "masked": "+86 137****7001"}'})
    db.session.commit()
    assert verify().broken_at == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
       call_sid=st.none() | st.text(max_size=34), kind=st.text(min_size=1, max_size=24),
       micro=st.integers(0, 999_999))
def test_the_fast_digest_is_the_canonical_one(data, call_sid, kind, micro):
    moment = datetime(2026, 1, 2, 3, 4, 5, micro, tzinfo=UTC)
    digest = digest_of(canonical(7, call_sid, kind, "twilio", data, None, moment))
    stamp = moment.isoformat(timespec="microseconds")
    for stored in (json.dumps(data), data):  # as the database returns it, and as the ORM does
        row = (7, call_sid, kind, "twilio", stored, None, stamp, digest, False, GENESIS,
               link(digest, GENESIS))
        segment = check_rows([row], prev=GENESIS, expected=7)
        assert segment.broken_at is None and segment.count == 1
    altered = (7, call_sid, kind, "twilio", json.dumps([data]), None, stamp, digest, False, GENESIS,
               link(digest, GENESIS))
    assert check_rows([altered], prev=GENESIS, expected=7).broken_at == 7


# --- PostgreSQL: parallel walk, one snapshot, append-only trigger --------------

def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")


@pytest.mark.parametrize("tamper", [
    None,
    "UPDATE call_events SET kind = 'routing' WHERE seq = 11",  # a range's first row
    "DELETE FROM call_events WHERE seq = 10",  # a range's last row
    "DELETE FROM call_events WHERE seq BETWEEN 11 AND 15",  # a whole range
    "UPDATE call_events SET prev_hash = hash WHERE seq = 16",
    "DELETE FROM call_events WHERE seq = 30",  # the tail
])
def test_the_parallel_walk_reports_what_a_sequential_walk_does(db, monkeypatch, tamper):
    postgresql_only(db)
    fill(db, 30)
    if tamper:
        db.session.execute(text(tamper))
        db.session.commit()
    monkeypatch.setattr(verification, "PARALLEL_MIN_EVENTS", 1)
    monkeypatch.setattr(verification, "RANGES_PER_WORKER", 3)  # 6 ranges of 5 events
    report = verify(workers=2)
    assert (report.events, report.broken_at) == stored_reference(db)
    assert report.ok is (tamper is None)


def test_events_appended_during_a_walk_are_not_taken_for_a_removed_tail(db, monkeypatch):
    postgresql_only(db)
    fill(db, 5)
    walk = verification.check_rows

    def append_meanwhile(rows, **options):
        append("status", "twilio", {"status": "late"}, dedupe_key="late")
        db.session.commit()
        seal_pending()  # the head moves on while the walk reads the older snapshot
        return walk(rows, **options)

    monkeypatch.setattr(verification, "check_rows", append_meanwhile)
    report = verify()
    assert report.ok and report.events == 5  # the snapshot the head was read in
    monkeypatch.setattr(verification, "check_rows", walk)
    assert verify().events == 6


@pytest.fixture
def migrated_postgresql(tmp_path, simulator):
    """An app on a brand-new PostgreSQL database built by the Alembic migrations."""
    if not TEST_DATABASE_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    from flask_migrate import upgrade

    name = f"registry_append_only_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    app = make_test_app(url, simulator.url, tmp_path)
    try:
        with app.app_context():
            upgrade()
            yield app
            from registry.core.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE call_events SET data = '{\"status\": \"busy\"}' WHERE seq = 2",
    "UPDATE call_events SET data = '{}', redacted_at = now(), hash = digest WHERE seq = 2",
    "DELETE FROM call_events WHERE seq = 3",
    "TRUNCATE call_events",
    "UPDATE call_events SET seq = 9 WHERE seq = 2",  # sealed again, elsewhere in the chain
    "UPDATE call_events SET seq = NULL, digest = NULL, prev_hash = NULL, hash = NULL WHERE seq = 2",
    "UPDATE call_events SET data = '{\"status\": \"busy\"}' WHERE seq IS NULL",  # before sealing
    "UPDATE call_events SET seq = 5, digest = 'd', prev_hash = 'p', hash = 'h', kind = 'sms' "
    "WHERE seq IS NULL",  # sealing with other content
])
def test_postgresql_refuses_edits_but_lets_retention_redact(migrated_postgresql, statement):
    from registry.calllog.retention import redact_old_events
    from registry.core.extensions import db
    from registry.core.timeutil import utcnow

    fill(db, 4)
    append("status", "twilio", {"status": "ringing"}, dedupe_key="unsealed")
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert redact_old_events(utcnow(), utcnow()) == 4  # the unsealed event keeps its content
    db.session.commit()
    assert seal_pending() == 1  # the sealer may still number and link it
    report = verify()
    assert report.ok and report.events == 5
    assert [e.data for e in db.session.scalars(select(CallEvent).order_by(CallEvent.seq))] == \
        [{}, {}, {}, {}, {"status": "ringing"}]
    # A superuser can still switch the trigger off; the chain still tells.
    db.session.execute(text("SET session_replication_role = replica"))
    db.session.execute(text("DELETE FROM call_events WHERE seq = 3"))
    db.session.commit()
    assert verify().broken_at == 3
