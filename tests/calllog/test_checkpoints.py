"""Signed checkpoints: a tail cut after a checkpoint, a rewritten chain or a tampered checkpoint
fails `calllog verify`; an outsider verifies the export with the public key alone."""

import base64
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from registry.calllog.chain import append, seal_pending
from registry.calllog.models import ChainCheckpoint
from registry.calllog.verification import last_result, verify
from registry.core.config import ConfigError, load_config
from registry.core.signing_keys import new_private_key_text, parse_private_key
from registry.scheduler import JOBS, run_job

CHECKPOINT = next(job for job in JOBS if job.name == "checkpoint-call-log")
VERIFY = next(job for job in JOBS if job.name == "verify-call-log")


def fill(db, n=5, start=0):
    for i in range(start, start + n):
        append("status", "twilio", {"status": "ringing", "i": i}, call_sid=f"CA{i:032d}", dedupe_key=f"k{i}")
    db.session.commit()
    seal_pending()


def checkpoint(app, db):
    outcome = run_job(app, CHECKPOINT)
    db.session.expire_all()
    return outcome


def test_the_job_signs_the_sealed_head_and_skips_when_nothing_changed(app, db):
    assert checkpoint(app, db) == "nothing sealed yet"
    fill(db, 3)
    append("status", "twilio", {"unsealed": True})  # not sealed: not counted
    db.session.commit()
    assert checkpoint(app, db).endswith(": 3 events")
    assert checkpoint(app, db).startswith("unchanged since checkpoint")
    fill(db, 2, start=3)
    assert checkpoint(app, db).endswith(": 6 events")
    assert [c.events for c in db.session.query(ChainCheckpoint).order_by(ChainCheckpoint.id)] == [3, 6]
    report = verify()
    assert report.ok and report.events == 6


def test_a_valid_chain_with_checkpoints_passes_the_daily_job(app, db):
    fill(db, 4)
    checkpoint(app, db)
    fill(db, 2, start=4)
    checkpoint(app, db)
    fill(db, 1, start=6)  # past the last checkpoint: fine
    assert run_job(app, VERIFY).startswith("intact, 7 events")


def _cut_tail(db, keep):
    """What the plain chain cannot see: the last rows deleted and the head rewound with them."""
    head_hash = db.session.execute(text("SELECT hash FROM call_events WHERE seq = :s"), {"s": keep}).scalar()
    db.session.execute(text("DELETE FROM call_events WHERE seq > :s"), {"s": keep})
    db.session.execute(text("UPDATE call_event_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                       {"s": keep, "h": head_hash})
    db.session.commit()


def test_rows_cut_from_the_tail_after_a_checkpoint_are_reported(app, db, runner):
    fill(db, 5)
    checkpoint(app, db)
    _cut_tail(db, 3)
    outcome = runner.invoke(args=["calllog", "verify"])
    assert outcome.exit_code == 1
    assert "BROKEN at event 4: events after 3 were removed (checkpoint" in outcome.output
    assert "counted 5" in outcome.output
    result = last_result()
    assert (result.ok, result.broken_at) == (False, 4)
    # And the job refuses to vouch for the shortened chain.
    assert checkpoint(app, db).startswith("NOT signed")


def test_without_a_checkpoint_the_cut_tail_goes_unseen(app, db):
    fill(db, 5)
    _cut_tail(db, 3)
    assert verify().ok  # why checkpoints exist


def test_a_rewritten_chain_is_reported(app, db):
    fill(db, 3)
    checkpoint(app, db)
    _cut_tail(db, 1)
    fill(db, 2, start=10)  # a different event 2 and 3, sealed and linked properly
    report = verify()
    assert (report.broken_at, report.reason) == (3, "event 3 differs from checkpoint "
                                                 f"{db.session.query(ChainCheckpoint).one().id}: "
                                                 "the chain was rewritten")


@pytest.mark.parametrize("tamper", [
    "UPDATE call_log_checkpoints SET events = events - 1",
    "UPDATE call_log_checkpoints SET signature = :other",
    "UPDATE call_log_checkpoints SET head_hash = :zeros",
    "UPDATE call_log_checkpoints SET signature = 'not base64!'",
])
def test_a_tampered_checkpoint_is_reported(app, db, tamper):
    fill(db, 5)
    checkpoint(app, db)
    other = base64.b64encode(bytes(64)).decode()
    db.session.execute(text(tamper), {"other": other, "zeros": "0" * 64})
    db.session.commit()
    report = verify()
    assert not report.ok
    assert report.reason.endswith("has an invalid signature")


def test_a_checkpoint_of_an_unknown_key_is_reported(app, db):
    fill(db, 2)
    checkpoint(app, db)
    app.config["CHECKPOINT_SIGNING_KEY"] = new_private_key_text()
    report = verify()
    assert not report.ok and "signed by an unknown key" in report.reason


def test_an_older_key_listed_after_the_new_one_still_verifies(app, db):
    old = new_private_key_text()
    app.config["CHECKPOINT_SIGNING_KEY"] = old
    fill(db, 2)
    checkpoint(app, db)
    app.config["CHECKPOINT_SIGNING_KEY"] = f"{new_private_key_text()},{old}"
    fill(db, 1, start=2)
    checkpoint(app, db)
    assert len({c.key_id for c in db.session.query(ChainCheckpoint)}) == 2
    assert verify().ok


def test_export_lines_verify_with_the_public_key_alone(app, db, runner):
    fill(db, 3)
    checkpoint(app, db)
    fill(db, 2, start=3)
    checkpoint(app, db)
    pem = runner.invoke(args=["calllog", "checkpoint", "public-key"]).output
    public = serialization.load_pem_public_key(pem[pem.index("-----BEGIN"):].encode())
    assert isinstance(public, Ed25519PublicKey)
    exported = runner.invoke(args=["calllog", "checkpoint", "export"]).output
    lines = [json.loads(line) for line in exported.splitlines()]
    assert [line["events"] for line in lines] == [3, 5]
    for line in lines:
        assert set(line) == {"id", "created_at", "events", "head_hash", "key_id", "signature"}
        signed = (f"registry call-log checkpoint v1\n{line['events']}\n{line['head_hash']}\n"
                  f"{line['created_at']}")
        public.verify(base64.b64decode(line["signature"]), signed.encode())
        with pytest.raises(InvalidSignature):
            public.verify(base64.b64decode(line["signature"]), signed.replace(
                f"\n{line['events']}\n", f"\n{line['events'] + 1}\n").encode())


def test_the_write_command_seals_and_signs(runner, db):
    append("status", "twilio", {"i": 1})
    db.session.commit()
    outcome = runner.invoke(args=["calllog", "checkpoint", "write"])
    assert outcome.exit_code == 0 and outcome.output.strip().endswith(": 1 events")


def test_the_key_is_base64_or_pem_and_refused_when_unreadable(tmp_path):
    raw = new_private_key_text()
    key = parse_private_key(raw)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    assert load_config(tmp_path, {"CHECKPOINT_SIGNING_KEY": pem})["CHECKPOINT_SIGNING_KEY"] == pem.strip()
    assert load_config(tmp_path, {"CHECKPOINT_SIGNING_KEY": raw})["CHECKPOINT_SIGNING_KEY"] == raw
    for bad in ("short", base64.b64encode(bytes(31)).decode(), "-----BEGIN PRIVATE KEY-----\nxx\n"):
        with pytest.raises(ConfigError, match="CHECKPOINT_SIGNING_KEY"):
            load_config(tmp_path, {"CHECKPOINT_SIGNING_KEY": bad})


def test_production_without_a_key_writes_no_checkpoint(app, db):
    app.config.update(REGISTRY_ENV="production", CHECKPOINT_SIGNING_KEY="")
    fill(db, 2)
    assert checkpoint(app, db) == "off (CHECKPOINT_SIGNING_KEY is not set)"
    assert verify().ok


def _export(runner, tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(runner.invoke(args=["calllog", "checkpoint", "export"]).output)
    return str(path)


def test_a_kept_export_shows_checkpoints_deleted_with_the_tail(app, db, runner, tmp_path):
    """Whoever can cut the tail can delete the checkpoints that counted it; the export kept
    outside still shows it."""
    fill(db, 3)
    checkpoint(app, db)
    fill(db, 2, start=3)
    checkpoint(app, db)
    kept = _export(runner, tmp_path)
    fine = runner.invoke(args=["calllog", "verify", "--checkpoints", kept])
    assert fine.exit_code == 0 and "5 events verified" in fine.output
    assert "the 2 exported checkpoints agree" in fine.output
    _cut_tail(db, 3)
    db.session.execute(text("DELETE FROM call_log_checkpoints WHERE events > 3"))
    db.session.commit()
    assert verify().ok  # what the database alone says
    outcome = runner.invoke(args=["calllog", "verify", "--checkpoints", kept])
    assert outcome.exit_code == 1
    assert "BROKEN at event 4: events after 3 were removed (exported checkpoint" in outcome.output
    assert last_result().ok is False


def test_a_kept_export_shows_a_checkpoint_rewritten_or_deleted_alone(app, db, runner, tmp_path):
    fill(db, 3)
    checkpoint(app, db)
    kept = _export(runner, tmp_path)
    first = db.session.query(ChainCheckpoint).one().id
    db.session.execute(text("DELETE FROM call_log_checkpoints"))
    db.session.commit()
    outcome = runner.invoke(args=["calllog", "verify", "--checkpoints", kept])
    assert outcome.exit_code == 1
    assert (f"exported checkpoint {first} is missing from the database: the checkpoints were altered"
            in outcome.output)


_LINE = '{{"id": {id}, "created_at": "2026-12-07T00:30:00+00:00", "events": {events}, "head_hash": "h", ' \
        '"key_id": "k", "signature": "s"}}'


@pytest.mark.parametrize("line", [
    "not json", '{"id": 1}', _LINE.format(id="true", events=1), _LINE.format(id=-1, events=1),
    _LINE.format(id=2**31, events=1), _LINE.format(id=1, events=2**70), "[" * 200_000])
def test_an_unreadable_export_is_refused_naming_the_line(app, db, runner, tmp_path, line):
    path = tmp_path / "bad.jsonl"
    path.write_text(f"\n{line}\n")
    outcome = runner.invoke(args=["calllog", "verify", "--checkpoints", str(path)])
    assert outcome.exit_code == 2 and "line 2 is not an exported checkpoint" in outcome.output
    assert last_result() is None  # nothing was verified, nothing kept


def test_a_forged_line_in_the_export_is_reported_as_the_export_s(app, db, runner, tmp_path):
    fill(db, 2)
    checkpoint(app, db)
    path = tmp_path / "forged.jsonl"
    exported = runner.invoke(args=["calllog", "checkpoint", "export"]).output
    [line] = [json.loads(x) for x in exported.splitlines()]
    path.write_text(json.dumps({**line, "events": 1}) + "\n")
    outcome = runner.invoke(args=["calllog", "verify", "--checkpoints", str(path)])
    assert outcome.exit_code == 1
    assert f"exported checkpoint {line['id']} has an invalid signature" in outcome.output


def test_an_empty_export_is_refused_and_one_checkpoint_is_spoken_of_as_one(app, db, runner, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    refused = runner.invoke(args=["calllog", "verify", "--checkpoints", str(empty)])
    assert refused.exit_code == 2 and "the file holds no checkpoint" in refused.output
    fill(db, 2)
    checkpoint(app, db)
    fine = runner.invoke(args=["calllog", "verify", "--checkpoints", _export(runner, tmp_path)])
    assert fine.exit_code == 0 and "; the exported checkpoint agrees" in fine.output


def test_a_failed_checkpoint_says_how_long_the_chain_is_not_what_was_verified_before_it(app, db, runner,
                                                                                      tmp_path):
    fill(db, 3)
    checkpoint(app, db)
    path = tmp_path / "forged.jsonl"
    [line] = runner.invoke(args=["calllog", "checkpoint", "export"]).output.splitlines()
    path.write_text(json.dumps({**json.loads(line), "events": 2}) + "\n")
    outcome = runner.invoke(args=["calllog", "verify", "--checkpoints", str(path)])
    assert outcome.exit_code == 1
    assert "has an invalid signature (the chain holds 3 events)" in outcome.output
