"""Recordings in S3-compatible object storage (moto's server over real HTTP): copied there,
served to staff only (a presigned redirect, or streamed), deleted by retention; the local disk
stays untouched. A store that cannot be reached is retried, never a crash."""

from __future__ import annotations

import hashlib
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.audit.models import StaffAudit
from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.verification import verify
from registry.core.config import ConfigError, load_config
from registry.core.timeutil import utcnow
from registry.scheduler import JOBS, run_job
from tests.calllog.s3 import free_port, moto_s3_server, s3_bucket  # noqa: F401 - fixtures
from tests.calllog.test_recordings import recorded_leg, simulated_recording
from tests.factories import PASSWORD, make_user

COPY = next(job for job in JOBS if job.name == "copy-recordings")
RETENTION = next(job for job in JOBS if job.name == "retention")


def stored_leg(app, db, simulator, seconds: int = 3) -> CallRecord:
    """A leg whose recording the copy job has just stored."""
    record = recorded_leg(db, "", None)
    recording = simulated_recording(simulator, record.call_sid, seconds=seconds)
    record.recording_url, record.recording_sid = recording.url, recording.sid
    db.session.commit()
    assert run_job(app, COPY) == {"stored": 1}
    db.session.expire_all()
    return db.session.get(CallRecord, record.id)


def sign_in(client, role: str) -> None:
    user = make_user(role, email=f"{role}@example.com")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def listens() -> list[str]:
    from registry.core.extensions import db

    return [a.target for a in db.session.scalars(select(StaffAudit).where(StaffAudit.action == "listen"))]


def test_a_recording_is_copied_into_the_bucket_with_its_digest_in_the_chain(app, db, simulator, s3, tmp_path):
    record = stored_leg(app, db, simulator, seconds=4)
    audio = s3.get(record.recording_sid)
    assert audio is not None and audio.startswith(b"RIFF") and len(audio) > 44
    assert s3.keys() == [f"calls/{record.recording_sid}.wav"]
    assert record.recording_status == "stored"
    assert record.recording_sha256 == hashlib.sha256(audio).hexdigest()
    event = db.session.scalars(select(CallEvent).where(CallEvent.kind == "recording")).one()
    assert event.data["sha256"] == record.recording_sha256 and event.data["bytes"] == len(audio)
    assert verify().ok
    assert not (tmp_path / "local-recordings").exists()  # nothing on this host's disk
    assert run_job(app, COPY) == {}


def test_staff_are_redirected_to_a_short_lived_presigned_url(app, client, db, simulator, s3):
    record = stored_leg(app, db, simulator)
    sign_in(client, "staff")
    response = client.get(f"/staff/calls/{record.id}/recording")
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    assert location.startswith(f"{s3.endpoint}/{s3.name}/calls/{record.recording_sid}.wav?")
    assert "X-Amz-Expires=60" in location and "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=10) as answer:  # noqa: S310 - the test's own server
        assert answer.read() == s3.get(record.recording_sid)
    assert listens() == [f"call_record:{record.id}"]


def test_staff_get_the_recording_streamed_when_configured(app, client, db, simulator, s3):
    app.config["RECORDINGS_S3_SERVE"] = "stream"
    record = stored_leg(app, db, simulator)
    sign_in(client, "staff")
    response = client.get(f"/staff/calls/{record.id}/recording")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data == s3.get(record.recording_sid)
    assert response.headers["Content-Length"] == str(len(response.data))
    assert listens() == [f"call_record:{record.id}"]


@pytest.mark.parametrize("who", [None, "merchant"])
def test_others_are_refused_before_anything_is_served(app, client, db, simulator, s3, who):
    record = stored_leg(app, db, simulator)
    if who:
        sign_in(client, who)
    response = client.get(f"/staff/calls/{record.id}/recording")
    assert response.status_code in (302, 403)
    assert s3.endpoint not in response.headers.get("Location", "")  # never the object's URL
    assert b"RIFF" not in response.data and listens() == []


def test_a_recording_not_stored_is_404_for_staff(app, client, db, s3):
    record = recorded_leg(db, "https://api.twilio.com/x/RE" + "c" * 32, "RE" + "c" * 32)
    sign_in(client, "staff")
    response = client.get(f"/staff/calls/{record.id}/recording")
    assert response.status_code == 404 and "This call has no stored recording." in response.text
    assert listens() == []


def test_retention_deletes_the_object(app, db, simulator, s3):
    old, recent = stored_leg(app, db, simulator), stored_leg(app, db, simulator)
    old.created_at = utcnow() - timedelta(days=200)
    db.session.commit()
    result = run_job(app, RETENTION)
    assert result.recordings_deleted == 1
    assert s3.get(old.recording_sid) is None and s3.get(recent.recording_sid) is not None
    db.session.expire_all()
    assert db.session.get(CallRecord, old.id).recording_status == "deleted"
    assert db.session.get(CallRecord, recent.id).recording_status == "stored"


def test_an_unreachable_store_is_retried_later_not_a_crash(app, db, simulator, s3, caplog):
    app.config["RECORDINGS_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    recording = simulated_recording(simulator, "CA" + "3" * 32)
    record = recorded_leg(db, recording.url, recording.sid)
    assert run_job(app, COPY) == {"retry": 1}
    db.session.expire_all()
    assert db.session.get(CallRecord, record.id).recording_status == "pending"
    assert "storage: EndpointConnectionError" in caplog.text


def test_retention_keeps_a_record_whose_object_it_could_not_delete(app, db, simulator, s3):
    record = stored_leg(app, db, simulator)
    record.created_at = utcnow() - timedelta(days=200)
    db.session.commit()
    app.config["RECORDINGS_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    assert run_job(app, RETENTION).recordings_deleted == 0
    db.session.expire_all()
    assert db.session.get(CallRecord, record.id).recording_status == "stored"  # tried again next run


@pytest.mark.parametrize("env, message", [
    ({"RECORDINGS_STORAGE": "ftp://bucket/x"}, "RECORDINGS_STORAGE"),
    ({"RECORDINGS_STORAGE": "s3://"}, "RECORDINGS_STORAGE"),
    ({"RECORDINGS_S3_SERVE": "proxy"}, "RECORDINGS_S3_SERVE"),
    ({"RECORDING_LINK_TTL_SECONDS": "0"}, "RECORDING_LINK_TTL_SECONDS"),
])
def test_a_storage_setting_that_cannot_work_refuses_to_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, env)


def test_storage_settings_default_to_the_local_disk(tmp_path):
    config = load_config(tmp_path, {"RECORDINGS_STORAGE": "s3://bucket/prefix"})
    assert config["RECORDINGS_STORAGE"] == "s3://bucket/prefix"
    assert config["RECORDINGS_S3_SERVE"] == "redirect"
    assert load_config(tmp_path, {})["RECORDINGS_STORAGE"] == ""
