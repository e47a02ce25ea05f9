"""The hash chain: appended events verify; any edit or deletion is detected."""

import pytest
from sqlalchemy import text

from registry.calllog.chain import append, seal, seal_pending
from registry.calllog.models import CallEvent, ChainHead
from registry.calllog.verification import verify


def fill(db, n=5):
    for i in range(n):
        append("status", "twilio", {"status": "ringing", "i": i}, call_sid=f"CA{i:032d}",
               dedupe_key=f"k{i}")
    db.session.commit()
    seal_pending()


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


def test_events_are_covered_once_sealed_and_verify_counts_the_unsealed(db):
    fill(db, 3)
    append("routing", "app", {"decision": "connect"}, call_sid="CA" + "9" * 32)
    db.session.commit()
    report = verify()
    assert report.ok and report.events == 3 and report.unsealed == 1
    assert seal() == 1
    db.session.commit()
    report = verify()
    assert report.ok and report.events == 4 and report.unsealed == 0
    latest = db.session.query(CallEvent).filter_by(kind="routing").one()
    assert latest.seq == 4 and latest.prev_hash == db.session.query(CallEvent).filter_by(seq=3).one().hash
    assert db.session.get(ChainHead, 1).hash == latest.hash


def test_an_event_committed_after_a_later_one_is_sealed_in_the_next_batch(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs two concurrent writers")
    with db.engine.connect() as other:  # a webhook whose transaction commits late
        early = other.execute(text(
            "INSERT INTO call_events (kind, source, data, recorded_at) "
            "VALUES ('status', 'twilio', '{}', now()) RETURNING id")).scalar()
        late = append("status", "twilio", {"status": "completed"}, dedupe_key="late")
        db.session.commit()
        assert seal() == 1  # only what is committed
        db.session.commit()
        other.commit()
    assert early < late
    assert seal() == 1
    db.session.commit()
    assert dict(db.session.query(CallEvent.id, CallEvent.seq).all()) == {late: 1, early: 2}
    assert verify().ok


def test_calllog_verify_command_seals_before_it_verifies(runner, db):
    fill(db, 2)
    append("sms", "app", {"decision": "relay"})
    db.session.commit()
    result = runner.invoke(args=["calllog", "verify"])
    assert result.exit_code == 0 and "3 events verified" in result.output
