"""Recordings are copied from Twilio (the simulator) into local storage, retried when that fails."""

import io
import logging
import time
import wave
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio_sim import Recording
from twilio_sim.state import new_sid

from registry.calllog.models import CallEvent, CallRecord
from registry.calllog.recordings import copy_due, local_path
from registry.calllog.verification import verify
from registry.core.config import SIMULATOR_ACCOUNT_SID
from registry.core.timeutil import utcnow
from registry.scheduler import JOBS, run_job
from registry.telephony import ProviderError, RefusedHost, get_gateway
from tests.factories import make_call_record, make_merchant, signed_post

SHOPPER, MERCHANT = "+8613700137000", "+8613800138000"
COPY = next(job for job in JOBS if job.name == "copy-recordings")


@pytest.fixture
def storage(app, tmp_path):
    folder = tmp_path / "recordings"
    app.config["RECORDINGS_DIR"] = str(folder)
    return folder


def simulated_recording(simulator, call_sid: str, seconds: int = 3) -> Recording:
    """A finished recording held by the simulator, as a recorded call leaves one."""
    sid = new_sid("RE")
    recording = Recording(sid=sid, account_sid=SIMULATOR_ACCOUNT_SID, call_sid=call_sid, duration=seconds,
                          start_time=time.time(), created_at=time.time(), source="DialVerb",
                          url=simulator.state.voice.recording_url(sid))
    with simulator.state.lock:
        simulator.state.recordings[sid] = recording
    return recording


def recorded_leg(db, url: str, sid: str | None):
    record = make_call_record(make_merchant())
    record.recording_url, record.recording_sid = url, sid
    db.session.commit()
    return record


def copy(app, db, **options):
    db.session.expire_all()  # as in a job's fresh session
    result = copy_due(get_gateway(), max_attempts=options.pop("max_attempts", 3), retry_seconds=60, **options)
    db.session.commit()
    return result


def test_a_reported_recording_is_copied_with_its_digest_in_the_chain(app, db, simulator, storage):
    record = recorded_leg(db, "", None)
    recording = simulated_recording(simulator, record.call_sid, seconds=4)
    record.recording_url, record.recording_sid = recording.url, recording.sid
    db.session.commit()

    assert run_job(app, COPY) == {"stored": 1}
    db.session.expire_all()
    record = db.session.get(CallRecord, record.id)
    path = local_path(record)
    assert record.recording_status == "stored" and path == storage / f"{recording.sid}.wav"
    with wave.open(io.BytesIO(path.read_bytes())) as audio:
        assert audio.getnframes() / audio.getframerate() == pytest.approx(4)
    import hashlib

    assert record.recording_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    event = db.session.scalars(select(CallEvent).where(CallEvent.kind == "recording")).one()
    assert event.call_sid == record.call_sid
    assert event.data == {"event": "stored", "recording_sid": recording.sid,
                          "sha256": record.recording_sha256, "bytes": path.stat().st_size}
    assert verify().ok
    assert [p.name for p in storage.iterdir()] == [path.name]  # no temporary file left behind
    assert run_job(app, COPY) == {}  # nothing left to copy


def test_the_dial_webhook_s_recording_url_is_what_gets_copied(app, client, db, simulator, storage):
    """End to end: the bridged leg's recording reported by Twilio's dial action is stored."""
    child = make_call_record(make_merchant(), kind="relay")
    recording = simulated_recording(simulator, child.call_sid)
    response = signed_post(client, "/webhooks/twilio/voice/dial-action", {
        "CallSid": "CA" + "7" * 32, "DialCallSid": child.call_sid, "DialCallStatus": "completed",
        "DialCallDuration": "3", "RecordingUrl": recording.url, "RecordingSid": recording.sid,
        "AccountSid": SIMULATOR_ACCOUNT_SID})
    assert response.status_code == 200
    assert copy(app, db) == {"stored": 1}
    assert local_path(db.session.get(CallRecord, child.id)).is_file()


def test_twilio_s_own_url_is_routed_to_the_configured_api(app, db, simulator, storage):
    recording = simulated_recording(simulator, "CA" + "1" * 32)
    twilio_url = f"https://api.twilio.com/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Recordings/{recording.sid}"
    record = recorded_leg(db, twilio_url, recording.sid)
    assert copy(app, db) == {"stored": 1}
    assert local_path(db.session.get(CallRecord, record.id)).stat().st_size > 44


def test_a_failed_download_is_retried_later_with_back_off(app, db, simulator, storage, caplog):
    sid = new_sid("RE")
    record = recorded_leg(db, simulator.state.voice.recording_url(sid), sid)  # not (yet) at Twilio
    with caplog.at_level(logging.WARNING):
        assert copy(app, db) == {"retry": 1}
    db.session.expire_all()
    record = db.session.get(CallRecord, record.id)
    assert (record.recording_status, record.recording_attempts) == ("pending", 1)
    assert local_path(record) is None and list(storage.iterdir()) == []
    assert "HTTP 404" in caplog.text and SHOPPER not in caplog.text and "13700137000" not in caplog.text
    assert copy(app, db) == {}  # not due yet

    later = utcnow() + timedelta(seconds=61)
    assert copy(app, db, now=later) == {"retry": 1}
    db.session.expire_all()
    retry_at = db.session.get(CallRecord, record.id).recording_retry_at
    assert retry_at.replace(tzinfo=later.tzinfo) - later == timedelta(seconds=120)  # doubled

    simulated = Recording(sid=sid, account_sid=SIMULATOR_ACCOUNT_SID, call_sid=record.call_sid, duration=2,
                          start_time=time.time(), created_at=time.time(), source="DialVerb")
    with simulator.state.lock:
        simulator.state.recordings[sid] = simulated
    assert copy(app, db, now=later + timedelta(minutes=5)) == {"stored": 1}
    db.session.expire_all()
    record = db.session.get(CallRecord, record.id)
    assert (record.recording_status, record.recording_attempts) == ("stored", 3)
    assert local_path(record).is_file()


def test_copying_gives_up_after_the_configured_attempts(app, db, simulator, storage):
    sid = new_sid("RE")
    record = recorded_leg(db, simulator.state.voice.recording_url(sid), sid)
    moment = utcnow()
    for outcome in ("retry", "failed"):
        assert copy(app, db, max_attempts=2, now=moment) == {outcome: 1}
        moment += timedelta(hours=1)
    assert copy(app, db, max_attempts=2, now=moment + timedelta(days=1)) == {}
    db.session.expire_all()
    assert db.session.get(CallRecord, record.id).recording_status == "failed"


@pytest.mark.parametrize("url", [
    "http://evil.example/2010-04-01/Accounts/AC" + "5" * 32 + "/Recordings/RE" + "a" * 32,
    "https://api.twilio.com/2010-04-01/Accounts/AC" + "5" * 32 + "/Calls/CA" + "a" * 32,
])
def test_a_url_that_is_not_a_twilio_recording_is_never_fetched(app, db, storage, url):
    record = recorded_leg(db, url, "RE" + "a" * 32)
    assert copy(app, db) == {"failed": 1}
    db.session.expire_all()
    assert db.session.get(CallRecord, record.id).recording_status == "failed"
    with pytest.raises(RefusedHost):
        get_gateway().download_recording(url, io.BytesIO())


def test_a_malformed_recording_sid_is_not_used_as_a_file_name(app, db, storage):
    record = recorded_leg(db, "https://api.twilio.com/2010-04-01/Accounts/x/Recordings/../../etc", "../../x")
    assert copy(app, db) == {"failed": 1}
    assert local_path(db.session.get(CallRecord, record.id)) is None


class FakeResponse:
    def __init__(self, status, body=b"", location=None):
        self.status_code, self.body = status, body
        self.headers = {"Location": location} if location else {}
        self.is_redirect = location is not None

    def iter_content(self, size):
        yield self.body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FakeSession:
    def __init__(self, *responses):
        self.responses, self.requests = list(responses), []

    def get(self, url, auth=None, **options):
        self.requests.append((url, auth))
        return self.responses.pop(0)


def test_twilio_s_redirect_to_its_storage_is_followed_without_credentials(app, monkeypatch):
    gateway = get_gateway()
    session = FakeSession(FakeResponse(302, location="https://media.example.com/x.wav?sig=1"),
                          FakeResponse(200, b"RIFF-audio"))
    monkeypatch.setattr(gateway._http, "session", session)
    out = io.BytesIO()
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Recordings/RE{'a' * 32}"
    assert gateway.download_recording(url, out) == 10 and out.getvalue() == b"RIFF-audio"
    first, second = session.requests
    assert first[0].endswith(f"/api/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Recordings/RE{'a' * 32}.wav")
    assert first[1] == (SIMULATOR_ACCOUNT_SID, gateway._auth_token)
    assert second == ("https://media.example.com/x.wav?sig=1", None)

    monkeypatch.setattr(gateway._http, "session", FakeSession(FakeResponse(302, location="http://plain.example/")))
    with pytest.raises(ProviderError, match="non-HTTPS"):
        gateway.download_recording(url, io.BytesIO())


def test_unwritable_storage_is_retried_later_not_a_crash(app, db, simulator, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.config["RECORDINGS_DIR"] = str(blocker)
    recording = simulated_recording(simulator, "CA" + "2" * 32)
    record = recorded_leg(db, recording.url, recording.sid)
    assert copy(app, db) == {"retry": 1}
    db.session.expire_all()
    assert db.session.get(CallRecord, record.id).recording_status == "pending"
