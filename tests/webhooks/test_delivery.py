"""Delivery by the scheduler against a real local receiver that verifies every signature with
`standardwebhooks`: success, retries (500 then 200, a receiver hanging past the timeout), a
receiver down for the whole schedule (failed, then the endpoint disabled), a scheduler killed
mid-delivery (sent again with the same id), two schedulers (each attempt once), a rolled-back
transaction (nothing sent), no redirects, 4 KB read, rotation, and addresses refused at
delivery time in production."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.core.extensions import db as database
from registry.core.timeutil import utcnow
from registry.core.transactions import unit_of_work
from registry.scheduler import JOBS, run_job
from registry.webhooks import sending
from registry.webhooks.claims import claim_due
from registry.webhooks.delivery import DeliverySettings, deliver_due
from registry.webhooks.events import emit
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from registry.webhooks.operations import create_endpoint, rotate_secret
from tests.factories import make_client


@pytest.fixture
def endpoint(app, db, receiver):
    client, _ = make_client(scopes=("webhooks",))
    row, secret = create_endpoint(client.id, receiver.url, ["callback.completed", "call.completed"],
                                  None, app.config)
    database.session.commit()
    receiver.secrets = [secret]
    return row


def settings(app, worker="test-worker", **overrides) -> DeliverySettings:
    return DeliverySettings.from_config(app.config, worker, **overrides)


def deliveries() -> list[WebhookDelivery]:
    database.session.expire_all()
    return list(database.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def emit_committed(event_type="callback.completed", data=None):
    event = emit(event_type, data or {"callback_id": 7})
    database.session.commit()
    return event


def test_a_committed_event_is_delivered_signed_once(app, endpoint, receiver):
    event = emit_committed()
    assert deliver_due(settings(app)) == {"succeeded": 1}
    [got] = receiver.received
    assert got.error is None, got.error
    assert got.verified["type"] == "callback.completed" and got.verified["data"] == {"callback_id": 7}
    assert set(got.verified) == {"type", "timestamp", "data"}
    assert got.headers["webhook-id"] == event.msg_id and got.headers["content-type"] == "application/json"
    [delivery] = deliveries()
    assert delivery.status == "succeeded" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert deliver_due(settings(app)) == {}  # nothing twice


def test_an_unsubscribed_type_and_a_disabled_endpoint_get_nothing(app, endpoint, receiver):
    assert emit("binding.ended", {"binding_id": 1}) is None
    endpoint.enabled = False
    database.session.commit()
    assert emit("callback.completed", {}) is None


def test_a_rolled_back_transaction_sends_nothing(app, endpoint, receiver):
    with pytest.raises(RuntimeError), unit_of_work():
        emit("callback.completed", {"callback_id": 1})
        raise RuntimeError("the change failed")
    assert database.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
    assert deliver_due(settings(app)) == {}
    assert receiver.received == []


def test_500_then_200_is_delivered_on_the_retry_with_one_log_row_per_attempt(app, endpoint, receiver):
    receiver.answers = [500]
    emit_committed()
    assert deliver_due(settings(app)) == {"retrying": 1, "succeeded": 1}
    assert len(set(receiver.ids())) == 1 and len(receiver.received) == 2
    assert all(r.error is None for r in receiver.received)
    [delivery] = deliveries()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    log = [(a.number, a.status_code, a.succeeded) for a in delivery.log]
    assert log == [(1, 500, False), (2, 200, True)]
    assert delivery.log[0].response_snippet == "answer 500"
    assert database.session.get(WebhookEndpoint, endpoint.id).failing_since is None


def test_the_retry_waits_for_the_schedule(app, endpoint, receiver):
    receiver.answers = [500]
    emit_committed()
    assert deliver_due(settings(app, schedule=(300,))) == {"retrying": 1}
    [delivery] = deliveries()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert deliver_due(settings(app, schedule=(300,))) == {}
    later = utcnow() + timedelta(seconds=301)
    assert deliver_due(settings(app, schedule=(300,), now=lambda: later)) == {"succeeded": 1}


def test_a_receiver_hanging_past_the_timeout_is_retried(app, endpoint, receiver):
    receiver.answers, receiver.hang_for = ["hang"], 2.0
    emit_committed()
    assert deliver_due(settings(app, timeout=0.3)) == {"retrying": 1, "succeeded": 1}
    [delivery] = deliveries()
    first = delivery.log[0]
    assert first.status_code is None and first.error == "timeout" and first.latency_ms < 1500


def test_a_receiver_down_for_the_whole_schedule_fails_and_its_endpoint_is_disabled(app, endpoint, receiver):
    receiver.default = 503
    emit_committed()
    assert deliver_due(settings(app)) == {"retrying": 3, "failed": 1}
    [delivery] = deliveries()
    assert delivery.status == "failed" and delivery.attempts == 4 and len(delivery.log) == 4
    assert len(set(receiver.ids())) == 1
    assert database.session.get(WebhookEndpoint, endpoint.id).enabled  # failing for seconds only

    emit_committed()  # every delivery has failed for WEBHOOK_DISABLE_AFTER_HOURS (120) by now
    later = utcnow() + timedelta(hours=121)
    deliver_due(settings(app, now=lambda: later))
    database.session.expire_all()
    row = database.session.get(WebhookEndpoint, endpoint.id)
    assert not row.enabled and "120 hours" in row.disabled_reason and "HTTP 503" in row.disabled_reason
    assert emit("callback.completed", {}) is None  # a disabled endpoint is sent nothing new


def test_a_connection_refused_is_retried_then_failed(app, db):
    client, _ = make_client(scopes=("webhooks",))
    create_endpoint(client.id, "http://127.0.0.1:9/nothing-listens", ["call.completed"], None, app.config)
    database.session.commit()
    emit_committed("call.completed")
    assert deliver_due(settings(app)) == {"retrying": 3, "failed": 1}
    assert deliveries()[0].log[0].error == "connection failed"


def test_a_scheduler_killed_mid_delivery_leaves_it_to_be_sent_again_with_the_same_id(app, endpoint, receiver):
    event = emit_committed()
    dead = settings(app)
    [delivery_id] = claim_due("dead-worker", dead.lease, utcnow(), 10)
    row = database.session.get(WebhookDelivery, delivery_id)
    outgoing = sending.prepare(row.id, receiver.url, row.msg_id, event.body, [endpoint.secret], utcnow())
    sending.post(outgoing, 1.0, False, utcnow())  # POSTed, then killed before recording it
    database.session.rollback()
    assert deliver_due(settings(app)) == {}  # its lease holds: no other scheduler touches it
    after_lease = utcnow() + dead.lease + timedelta(seconds=1)
    assert deliver_due(settings(app, now=lambda: after_lease)) == {"succeeded": 1}
    assert receiver.ids() == [event.msg_id, event.msg_id]
    assert all(r.error is None for r in receiver.received)
    [delivery] = deliveries()
    assert delivery.status == "succeeded" and delivery.attempts == 1


def test_two_schedulers_send_each_attempt_once(app, endpoint, receiver):
    for n in range(60):
        emit("callback.completed", {"n": n})
    database.session.commit()
    counts, errors = [], []

    def scheduler(name):
        with app.app_context():
            try:
                counts.append(deliver_due(settings(app, worker=name, batch=5, concurrency=2, timeout=5.0)))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                database.session.remove()

    threads = [threading.Thread(target=scheduler, args=(f"s{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # Each attempt made by one scheduler only: no (delivery, attempt number) twice, and every POST
    # the receiver got is one logged attempt. (Under heavy load an answer may come after the
    # timeout: that delivery is retried, a second attempt, which is at-least-once, not a double.)
    logged = database.session.execute(sa.select(WebhookAttempt.delivery_id, WebhookAttempt.number)).all()
    assert len(set(logged)) == len(logged) == len(receiver.ids())
    assert len(set(receiver.ids())) == 60
    assert sum(c.get("succeeded", 0) for c in counts) == 60
    assert {d.status for d in deliveries()} == {"succeeded"}


def test_redirects_are_not_followed_and_at_most_4_kb_is_read(app, endpoint, receiver):
    receiver.answers = ["redirect", "big"]
    emit_committed()
    assert deliver_due(settings(app)) == {"retrying": 1, "succeeded": 1}
    first, second = deliveries()[0].log
    assert first.status_code == 302 and first.error == "HTTP 302"
    assert second.status_code == 200 and len(second.response_snippet) == sending.SNIPPET_BYTES
    assert len(receiver.received) == 2  # the redirect's target was never asked


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(app, endpoint, receiver):
    old = endpoint.secret
    _, new = rotate_secret(endpoint.client_id, endpoint.id, timedelta(hours=24))
    database.session.commit()
    receiver.secrets = [old]
    emit_committed()
    deliver_due(settings(app))
    receiver.secrets = [new]
    emit_committed()
    deliver_due(settings(app))
    assert [r.error for r in receiver.received] == [None, None]
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    receiver.secrets = [old]
    emit_committed()
    later = utcnow() + timedelta(hours=25)
    deliver_due(settings(app, now=lambda: later))
    assert len(receiver.received[2].headers["webhook-signature"].split(" ")) == 1
    assert receiver.received[2].error is not None  # the old secret no longer signs


def test_production_refuses_a_private_address_at_delivery_time(app, endpoint, receiver):
    # The endpoint was saved while its name led elsewhere; it resolves to this machine now.
    emit_committed()
    assert deliver_due(settings(app, check_addresses=True)) == {"retrying": 3, "failed": 1}
    assert receiver.received == []
    assert deliveries()[0].log[0].error == "refused: invalid.webhook_url_private"


def test_a_name_rebound_to_a_private_address_after_the_check_is_not_sent_to(app, endpoint, receiver):
    # DNS rebinding: whatever a look-up before the attempt said, the address the connection
    # reaches is what counts (the only check at delivery time is the adapter's, on the socket).
    emit_committed()
    assert deliver_due(settings(app, check_addresses=True)) == {"retrying": 3, "failed": 1}
    assert receiver.received == []
    assert deliveries()[0].log[0].error == "refused: invalid.webhook_url_private"


def test_production_with_private_addresses_allowed_delivers(app, endpoint, receiver):
    app.config.update(REGISTRY_ENV="production", WEBHOOK_ALLOW_PRIVATE=True)
    try:
        emit_committed()
        assert deliver_due(settings(app)) == {"succeeded": 1}
    finally:
        app.config.update(REGISTRY_ENV="testing", WEBHOOK_ALLOW_PRIVATE=False)


def test_the_scheduler_job_delivers_and_a_retry_resends_with_the_same_id(app, client, endpoint, receiver):
    from tests.factories import bearer

    event = emit_committed()
    job = next(job for job in JOBS if job.name == "deliver-webhooks")
    assert run_job(app, job) == {"succeeded": 1}
    key = make_client("Shop B", scopes=("webhooks",))[1]
    [delivery] = deliveries()
    retried = client.post(f"/api/v1/webhook-deliveries/{delivery.id}/retry", headers=bearer(key))
    assert retried.status_code == 404
    from registry.webhooks.operations import retry_delivery

    retry_delivery(delivery.endpoint.client_id, delivery.id)
    database.session.commit()
    assert run_job(app, job) == {"succeeded": 1}
    assert receiver.ids() == [event.msg_id, event.msg_id]
    assert json.loads(receiver.received[1].body)["type"] == "callback.completed"
    assert database.session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 2


def test_an_endpoint_deleted_while_its_delivery_is_in_flight(app, endpoint, receiver, monkeypatch):
    from registry.webhooks.operations import delete_endpoint

    emit_committed()
    real_post = sending.post

    def post_then_delete(*args, **kwargs):
        result = real_post(*args, **kwargs)
        with app.app_context():
            delete_endpoint(endpoint.client_id, endpoint.id)
            database.session.commit()
            database.session.remove()
        return result

    monkeypatch.setattr(sending, "post", post_then_delete)
    assert deliver_due(settings(app, concurrency=1)) == {"succeeded": 1}
    assert deliveries() == [] and len(receiver.received) == 1
