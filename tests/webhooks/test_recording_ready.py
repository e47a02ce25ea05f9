"""`recording.ready`: emitted when the copy job stores a recording, with an expiring, signed
download link of the registry's own (never Twilio's URL), on local disk and in object storage.
The link serves whoever holds it until it expires; a forged or expired one is a 403."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from registry.calllog.links import make_link
from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.scheduler import JOBS, run_job
from registry.webhooks.events import EVENT_TYPES
from registry.webhooks.models import WebhookEvent
from registry.webhooks.operations import create_endpoint
from tests.calllog.s3 import moto_s3_server, s3_bucket  # noqa: F401 - fixtures
from tests.calllog.test_recordings import recorded_leg, simulated_recording
from tests.factories import bearer, make_client

COPY = next(job for job in JOBS if job.name == "copy-recordings")
RETENTION = next(job for job in JOBS if job.name == "retention")
PATH = "/api/v1/recordings/"


@pytest.fixture
def local(app, tmp_path):
    app.config["RECORDINGS_DIR"] = str(tmp_path / "recordings")
    return tmp_path / "recordings"


def subscribe(app, events=("recording.ready",)) -> str:
    """A client with an endpoint hearing `events`; its key."""
    client, key = make_client(scopes=("webhooks",))
    create_endpoint(client.id, "http://127.0.0.1:9/hook", list(events), None, app.config)
    database.session.commit()
    return key


def ready_events() -> list[dict]:
    database.session.expire_all()
    rows = database.session.scalars(sa.select(WebhookEvent).where(WebhookEvent.type == "recording.ready"))
    return [json.loads(row.body)["data"] for row in rows]


def copied(app, db, simulator):
    """A callback's leg, 42 s long, whose recording the copy job stores; returns it and the event."""
    record = recorded_leg(db, "", None)
    recording = simulated_recording(simulator, record.call_sid)
    record.recording_url, record.recording_sid = recording.url, recording.sid
    record.duration_seconds = 42
    db.session.commit()
    assert run_job(app, COPY) == {"stored": 1}
    [event] = ready_events()
    db.session.expire_all()
    return db.session.get(type(record), record.id), event


def link_path(event: dict) -> str:
    return event["download_url"].split("127.0.0.1:5000", 1)[1]


def test_a_stored_recording_is_announced_with_a_signed_link_of_ours(app, client, db, simulator, local):
    subscribe(app)
    before = datetime.now(UTC)
    record, event = copied(app, db, simulator)
    assert event["call_record_id"] == record.id and event["merchant_id"] == record.merchant_id
    assert event["callback_id"] is None and event["duration"] == 42
    assert event["sha256"] == record.recording_sha256 and event["bytes"] > 44
    assert event["download_url"].startswith(f"http://127.0.0.1:5000{PATH}")
    expires = datetime.fromisoformat(event["download_expires_at"].replace("Z", "+00:00"))
    assert timedelta(seconds=3590) < expires - before <= timedelta(seconds=3601)
    body = " ".join(database.session.scalars(sa.select(WebhookEvent.body)))
    assert record.recording_url not in body and "twilio" not in body.lower() and "13700137000" not in body

    answer = client.get(link_path(event))  # no key, no session: the link is the credential
    assert answer.status_code == 200 and answer.mimetype == "audio/wav"
    assert answer.data == (local / f"{record.recording_sid}.wav").read_bytes()
    assert "attachment" in answer.headers["Content-Disposition"]


def test_the_link_of_a_recording_in_object_storage_redirects_to_the_object(app, client, db, simulator, s3):
    subscribe(app)
    record, event = copied(app, db, simulator)
    answer = client.get(link_path(event))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"{s3.endpoint}/{s3.name}/")
    with urllib.request.urlopen(answer.headers["Location"], timeout=10) as audio:  # noqa: S310
        assert audio.read() == s3.get(record.recording_sid)

    app.config["RECORDINGS_S3_SERVE"] = "stream"
    streamed = client.get(link_path(event))
    assert streamed.status_code == 200 and streamed.data == s3.get(record.recording_sid)


def test_an_expired_link_is_refused(app, client, db, simulator, local):
    subscribe(app)
    record, _ = copied(app, db, simulator)
    with app.test_request_context():
        stale = make_link(record.id, ttl_seconds=3600, now=time.time() - 3601)
    answer = client.get(stale.url.split("127.0.0.1:5000", 1)[1])
    assert answer.status_code == 403
    error = answer.get_json()["error"]
    assert (error["code"], error["message"]) == ("forbidden", "This recording link has expired.")
    chinese = client.get(stale.url.split("127.0.0.1:5000", 1)[1], headers={"Accept-Language": "zh"})
    assert chinese.get_json()["error"]["message"] == "此录音链接已过期。"


@pytest.mark.parametrize("tamper", ["swap_id", "signature", "garbage", "other_key"])
def test_a_forged_link_is_refused(app, client, db, simulator, local, tamper):
    from itsdangerous import URLSafeSerializer

    from registry.calllog.links import SALT

    subscribe(app)
    record, event = copied(app, db, simulator)
    token = link_path(event).removeprefix(PATH)
    payload, _, signature = token.rpartition(".")
    forged = {
        "swap_id": URLSafeSerializer("x").dump_payload([record.id + 1, int(time.time()) + 60]).decode()
        + "." + signature,
        "signature": payload + "." + signature[:-2] + ("AA" if not signature.endswith("AA") else "BB"),
        "garbage": "not-a-token",
        "other_key": URLSafeSerializer("another-secret", salt=SALT).dumps([record.id, int(time.time()) + 60]),
    }[tamper]
    answer = client.get(PATH + forged)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["message"] == "This recording link is not valid."
    assert b"RIFF" not in answer.data


def test_a_link_to_a_recording_retention_deleted_is_404(app, client, db, simulator, local):
    subscribe(app)
    record, event = copied(app, db, simulator)
    record.created_at = utcnow() - timedelta(days=200)
    db.session.commit()
    assert run_job(app, RETENTION).recordings_deleted == 1
    answer = client.get(link_path(event))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"


def test_nothing_is_emitted_without_a_subscriber_or_for_a_failed_copy(app, db, simulator, local):
    subscribe(app, events=[t for t in EVENT_TYPES if t != "recording.ready"])
    copied_record = recorded_leg(db, "", None)
    recording = simulated_recording(simulator, copied_record.call_sid)
    copied_record.recording_url, copied_record.recording_sid = recording.url, recording.sid
    db.session.commit()
    assert run_job(app, COPY) == {"stored": 1}
    subscribe(app)
    recorded_leg(db, simulator.state.voice.recording_url("RE" + "d" * 32), "RE" + "d" * 32)  # not at Twilio
    assert run_job(app, COPY) == {"retry": 1}
    assert ready_events() == []


def test_the_cli_copy_announces_too(app, db, simulator, local):
    subscribe(app)
    record = recorded_leg(db, "", None)
    recording = simulated_recording(simulator, record.call_sid)
    record.recording_url, record.recording_sid = recording.url, recording.sid
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["calllog", "copy-recordings"])
    assert result.exit_code == 0 and "stored: 1" in result.output
    assert [e["call_record_id"] for e in ready_events()] == [record.id]


def test_an_expired_link_is_renewed_for_the_client_it_was_sent_to(app, client, db, simulator, local):
    """A delivery retried after its link expired carries the expired link: the receiver trades
    it, with its key, for a fresh one to the same recording. Anyone else the link reached gets
    nothing (404, as for a recording never kept)."""
    key = subscribe(app)
    record, _ = copied(app, db, simulator)
    with app.test_request_context():
        stale = make_link(record.id, ttl_seconds=3600, now=time.time() - 7200)
    token = stale.url.rsplit("/", 1)[1]
    assert client.get(PATH + token).status_code == 403
    _, stranger = make_client(name="Not told", scopes=("webhooks",))
    refused = client.post(f"{PATH}{token}/renew", headers=bearer(stranger))
    assert refused.status_code == 404 and refused.json["error"]["reason"] == "not_found.recording"
    before = datetime.now(UTC)
    renewed = client.post(f"{PATH}{token}/renew", headers=bearer(key))
    assert renewed.status_code == 200, renewed.json
    expires = datetime.fromisoformat(renewed.json["download_expires_at"])
    assert timedelta(seconds=3590) < expires - before <= timedelta(seconds=3601)
    fresh = client.get(renewed.json["download_url"].split("127.0.0.1:5000", 1)[1])
    assert fresh.status_code == 200 and fresh.data == (local / f"{record.recording_sid}.wav").read_bytes()


def test_renewing_needs_a_webhooks_key_and_an_authentic_link_to_a_kept_recording(app, client, db, simulator,
                                                                                  local):
    key = subscribe(app)
    record, event = copied(app, db, simulator)
    token = link_path(event).removeprefix(PATH)
    assert client.post(f"{PATH}{token}/renew").status_code == 401
    _, bindings_key = make_client(name="Bindings only", scopes=("bindings",))
    assert client.post(f"{PATH}{token}/renew", headers=bearer(bindings_key)).status_code == 403
    assert client.post(f"{PATH}{token}/renew", headers=bearer(key)).status_code == 200
    forged = client.post(f"{PATH}{token[:-2]}xx/renew", headers=bearer(key))
    assert forged.status_code == 403 and forged.json["error"]["reason"] == "forbidden.recording_link_forged"
    record.created_at = utcnow() - timedelta(days=200)
    db.session.commit()
    assert run_job(app, RETENTION).recordings_deleted == 1
    gone = client.post(f"{PATH}{token}/renew", headers=bearer(key))
    assert gone.status_code == 404 and gone.json["error"]["reason"] == "not_found.recording"
