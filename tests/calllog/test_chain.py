"""The hash chain: appended events verify; any edit or deletion is detected."""

from sqlalchemy import text

from registry.calllog.chain import append, verify
from registry.calllog.models import CallEvent


def fill(db, n=5):
    for i in range(n):
        append("status", "twilio", {"status": "ringing", "i": i}, call_sid=f"CA{i:032d}",
               dedupe_key=f"k{i}")
    db.session.commit()


def test_appended_events_verify_and_duplicates_are_stored_once(db):
    fill(db)
    assert append("status", "twilio", {"status": "ringing"}, dedupe_key="k1") is None
    report = verify()
    assert report.ok and report.events == 5


def test_editing_a_row_in_the_database_is_detected(db):
    fill(db)
    db.session.execute(text("UPDATE call_events SET data = :d WHERE seq = 3"), {"d": '{"status": "busy"}'})
    db.session.commit()
    report = verify()
    assert not report.ok and report.broken_at == 3 and "altered" in report.reason


def test_deleting_a_row_is_detected(db):
    fill(db)
    db.session.execute(text("DELETE FROM call_events WHERE seq = 2"))
    db.session.commit()
    report = verify()
    assert report.broken_at == 2 and "missing" in report.reason


def test_deleting_the_tail_is_detected(db):
    fill(db)
    db.session.execute(text("DELETE FROM call_events WHERE seq = 5"))
    db.session.commit()
    assert verify().broken_at == 5


def test_recomputing_one_hash_still_breaks_the_next_link(db):
    fill(db)
    db.session.execute(text("UPDATE call_events SET hash = :h WHERE seq = 2"), {"h": "ab" * 32})
    db.session.commit()
    assert verify().broken_at == 2
    assert db.session.query(CallEvent).count() == 5


def test_calllog_verify_command(runner, db):
    fill(db)
    ok = runner.invoke(args=["calllog", "verify"])
    assert ok.exit_code == 0 and "5 events verified" in ok.output
    db.session.execute(text("UPDATE call_events SET source = 'app' WHERE seq = 4"))
    db.session.commit()
    broken = runner.invoke(args=["calllog", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at event 4" in broken.output


def test_a_redacted_event_still_verifies_but_a_forged_digest_does_not(db):
    fill(db)
    db.session.execute(
        text("UPDATE call_events SET data = :d, redacted_at = CURRENT_TIMESTAMP WHERE seq = 2"), {"d": "{}"})
    db.session.commit()
    assert verify().ok
    db.session.execute(text("UPDATE call_events SET digest = :h WHERE seq = 2"), {"h": "cd" * 32})
    db.session.commit()
    assert verify().broken_at == 2
