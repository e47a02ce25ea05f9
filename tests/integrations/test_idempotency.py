"""`Idempotency-Key` on a client's POST (`integrations.idempotency`): a replay answers what the
first request did without running it again; another body with the key is 422; a request still
running is 409; a failed request lets go of its key; keys expire; keys are per client.

The product's client POSTs come with later items, so a test-only route stands in: it creates an
integration client named by the body (a row to count) and answers 201 with its id.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from flask import request
from openapi_spec_validator import validate

from registry.core.errors import Conflict
from registry.core.extensions import db as database
from registry.core.openapi import ApiModel, operation
from registry.core.openapi.spec import build_document
from registry.core.phones import get_cipher
from registry.core.timeutil import utcnow
from registry.integrations import idempotency_keys as keys
from registry.integrations import operations
from registry.integrations.auth import client_required
from registry.integrations.idempotency import idempotent
from registry.integrations.models import IdempotencyKey, IntegrationClient
from registry.scheduler import JOBS, run_job
from tests.factories import bearer, make_client

THINGS = "/api/v1/test-only/things"
OTHER = "/api/v1/test-only/other-things"


class Gate:
    """Makes the first request through the route wait until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()
        self.calls = 0

    def pass_through(self) -> None:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.open.wait(10), "the gate was never opened"


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def things(app, gate):
    """The test-only POST routes, and a function that counts what they made."""

    def make_thing():
        body = request.get_json()
        if body.get("wait"):
            gate.pass_through()
        made, _key = operations.create_client(body["name"], ["bindings"])
        if body.get("fail") == "refuse":
            raise Conflict("conflict.client_revoked", id=made.id)
        if body.get("fail") == "crash":
            raise RuntimeError("the view fell over after doing its work")
        return {"id": made.id, "name": made.name}, 201

    for path, endpoint in ((THINGS, "test_only_things"), (OTHER, "test_only_other_things")):
        view = client_required("bindings")(idempotent(make_thing))
        app.add_url_rule(path, endpoint, view, methods=["POST"])

    def made(name: str = "Thing") -> int:
        database.session.expire_all()
        return database.session.scalar(sa.select(sa.func.count()).where(IntegrationClient.name == name))

    return made


@pytest.fixture
def key():
    _row, secret = make_client("Marketplace", scopes=["bindings"])
    return secret


def post(client, secret, body, idem=None, path=THINGS, **headers):
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return client.post(path, json=body, headers={**bearer(secret), **headers})


def stored_keys() -> list[IdempotencyKey]:
    database.session.expire_all()
    return list(database.session.scalars(sa.select(IdempotencyKey).order_by(IdempotencyKey.id)))


# --- replay --------------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_answer_and_do_nothing_again(client, things, key):
    first = post(client, key, {"name": "Thing"}, "order-42-create")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    for _ in range(2):
        again = post(client, key, {"name": "Thing"}, "order-42-create")
        assert again.status_code == 201
        assert again.json == first.json
        assert again.headers["Idempotent-Replayed"] == "true"
    assert things() == 1
    [row] = stored_keys()
    assert (row.status, row.lease, row.method, row.path) == (201, None, "POST", THINGS)
    # The answer is kept encrypted, as phone numbers are; the fingerprint is a keyed hash.
    assert "Thing" not in row.body and json.loads(get_cipher().decrypt(row.body)) == first.json
    assert row.fingerprint != hashlib.sha256(b'{"name": "Thing"}').hexdigest()


def test_without_the_header_every_post_runs(client, things, key):
    assert post(client, key, {"name": "Thing"}).status_code == 201
    assert post(client, key, {"name": "Thing"}).status_code == 201
    assert things() == 2 and stored_keys() == []


def test_keys_are_per_client(client, things, key):
    _other, other_key = make_client("Another marketplace", scopes=["bindings"])
    mine = post(client, key, {"name": "Thing"}, "same-key")
    theirs = post(client, other_key, {"name": "Thing"}, "same-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert "Idempotent-Replayed" not in theirs.headers
    assert things() == 2


# --- the key used for another request ------------------------------------------------------


@pytest.mark.parametrize("body, path", [
    ({"name": "Another thing"}, THINGS),   # another body
    ({"name": "Thing"}, OTHER),            # another path
])
def test_the_same_key_for_another_request_is_422_naming_the_header(client, things, key, body, path):
    assert post(client, key, {"name": "Thing"}, "k-1").status_code == 201
    response = post(client, key, body, "k-1", path=path)
    assert response.status_code == 422
    error = response.json["error"]
    assert (error["code"], error["reason"], error["field"]) == (
        "idempotency", "idempotency.key_reused", "Idempotency-Key")
    assert "Idempotency-Key" in error["message"]
    assert things() == 1 and things("Another thing") == 0


def test_another_query_string_is_another_request(client, things, key):
    assert post(client, key, {"name": "Thing"}, "k-q").status_code == 201
    response = post(client, key, {"name": "Thing"}, "k-q", path=THINGS + "?dry_run=true")
    assert response.status_code == 422 and response.json["error"]["reason"] == "idempotency.key_reused"


def test_the_body_is_compared_byte_for_byte(client, things, key):
    assert client.post(THINGS, data='{"name": "Thing"}', content_type="application/json",
                       headers={**bearer(key), "Idempotency-Key": "bytes"}).status_code == 201
    spaced = client.post(THINGS, data='{"name":"Thing"}', content_type="application/json",
                         headers={**bearer(key), "Idempotency-Key": "bytes"})
    assert spaced.status_code == 422


# --- bad keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "x" * 256, "tab\there", "bell\x07", "caf\u00e9", "del\x7f"])
def test_a_bad_key_is_400_naming_the_header_and_nothing_runs(client, things, key, value):
    response = post(client, key, {"name": "Thing"}, value)
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["code"], error["reason"], error["field"], error["limit"]) == (
        "idempotency", "idempotency.invalid_key", "Idempotency-Key", 255)
    assert things() == 0 and stored_keys() == []


@pytest.mark.parametrize("value", ["a", "x" * 255, "550e8400-e29b-41d4-a716-446655440000",
                                   'a "quoted" key ~!'])
def test_any_printable_ascii_key_up_to_255_is_taken(client, things, key, value):
    assert post(client, key, {"name": "Thing"}, value).status_code == 201
    assert post(client, key, {"name": "Thing"}, value).headers["Idempotent-Replayed"] == "true"
    assert things() == 1


def test_the_refusals_are_in_chinese_when_asked(client, things, key):
    response = post(client, key, {"name": "Thing"}, "", **{"Accept-Language": "zh"})
    assert response.status_code == 400 and "可打印" in response.json["error"]["message"]


# --- failures let go of the key --------------------------------------------------------------


@pytest.mark.parametrize("fail, status", [("refuse", 409), ("crash", 500)])
def test_a_failed_request_lets_go_of_its_key_so_a_retry_runs(client, things, key, fail, status):
    failed = post(client, key, {"name": "Thing", "fail": fail}, "retry-me")
    assert failed.status_code == status
    assert things() == 0 and stored_keys() == []
    # Not remembered: the retry runs, with the same body or a corrected one.
    retried = post(client, key, {"name": "Thing"}, "retry-me")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert things() == 1 and [k.status for k in stored_keys()] == [201]


def test_a_request_whose_commit_never_happens_lets_go_of_its_key(app, client, things, key):
    def fail_before_the_commit(response):
        if request.path == THINGS and response.status_code == 201:
            raise RuntimeError("the commit did not happen")
        return response

    app.after_request(fail_before_the_commit)  # runs before the unit of work's commit
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered 500, as in production
    assert post(client, key, {"name": "Thing"}, "lost").status_code == 500
    assert things() == 0 and stored_keys() == []
    app.after_request_funcs[None].remove(fail_before_the_commit)
    assert post(client, key, {"name": "Thing"}, "lost").status_code == 201
    assert things() == 1


# --- concurrency -------------------------------------------------------------------------------


def _post_live(url: str, secret: str, body: dict, idem: str) -> requests.Response:
    return requests.post(url, json=body, timeout=15,
                         headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": idem})


def test_a_retry_while_the_first_still_runs_is_409_and_the_work_runs_once(app, things, gate, key,
                                                                          live_server):
    url = live_server + THINGS
    body = {"name": "Thing", "wait": True}
    answers: list[requests.Response] = []
    first = threading.Thread(target=lambda: answers.append(_post_live(url, key, body, "slow")))
    first.start()
    try:
        assert gate.entered.wait(10)
        meanwhile = _post_live(url, key, body, "slow")
        assert meanwhile.status_code == 409
        assert meanwhile.json()["error"]["reason"] == "idempotency.in_progress"
        assert meanwhile.json()["error"]["field"] == "Idempotency-Key"
        assert meanwhile.headers["Retry-After"] == "1"
        other_body = _post_live(url, key, {"name": "Other", "wait": True}, "slow")
        assert other_body.status_code == 422
    finally:
        gate.open.set()
        first.join(15)
    [done] = answers
    assert done.status_code == 201
    after = _post_live(url, key, body, "slow")
    assert (after.status_code, after.json()) == (201, done.json())
    assert after.headers["Idempotent-Replayed"] == "true"
    assert things() == 1 and gate.calls == 1


def test_a_hold_past_its_lease_is_taken_over_and_the_old_request_cannot_store(app, things, gate, key,
                                                                              live_server):
    """A request that outlives the lease is taken to have died: a retry runs; should the old one
    finish after all, it is refused and its work is not stored, so the work is done once."""
    url = live_server + THINGS
    body = {"name": "Thing", "wait": True}
    answers: list[requests.Response] = []
    first = threading.Thread(target=lambda: answers.append(_post_live(url, key, body, "stuck")))
    first.start()
    try:
        assert gate.entered.wait(10)
        with database.engine.begin() as conn:  # the lease ran out
            conn.execute(sa.update(IdempotencyKey).values(locked_at=utcnow() - timedelta(minutes=10)))
        retry = _post_live(url, key, body, "stuck")
        assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    finally:
        gate.open.set()
        first.join(15)
    [late] = answers
    assert late.status_code == 409 and late.json()["error"]["reason"] == "idempotency.in_progress"
    assert things() == 1
    again = _post_live(url, key, body, "stuck")
    assert again.json() == retry.json() and again.headers["Idempotent-Replayed"] == "true"


def test_two_claims_at_once_hold_the_key_once(app, db, key):
    """The operations alone: a held key refuses a second claim until its answer is stored, which
    is then what a claim gets; a completed key is not released."""
    client_id = operations.authenticate(key).id
    print_ = keys.fingerprint("POST", THINGS, b"", b"{}")
    held = keys.claim(client_id, "k", "POST", THINGS, print_, ttl_hours=24, lease_seconds=300)
    db.session.commit()
    assert isinstance(held, keys.Held)
    with pytest.raises(keys.InProgress):
        keys.claim(client_id, "k", "POST", THINGS, print_, ttl_hours=24, lease_seconds=300)
    db.session.rollback()
    assert keys.complete(held, 201, b'{"id": 1}')
    db.session.commit()
    assert keys.claim(client_id, "k", "POST", THINGS, print_, ttl_hours=24, lease_seconds=300) == \
        keys.Answered(201, b'{"id": 1}')
    assert not keys.release(held)  # a completed key stays


# --- expiry ------------------------------------------------------------------------------------


def _age_keys(hours: float) -> None:
    with database.engine.begin() as conn:
        conn.execute(sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=hours)))


def test_keys_are_kept_24_hours_then_the_scheduler_forgets_them(app, client, things, key):
    first = post(client, key, {"name": "Thing"}, "daily")
    _age_keys(23.5)
    [job] = [job for job in JOBS if job.name == "forget-idempotency-keys"]
    assert run_job(app, job) == 0
    assert post(client, key, {"name": "Thing"}, "daily").json == first.json
    _age_keys(24.5)
    assert run_job(app, job) == 1 and stored_keys() == []
    again = post(client, key, {"name": "Thing"}, "daily")
    assert again.status_code == 201 and again.json["id"] != first.json["id"]
    assert things() == 2


def test_an_expired_key_not_yet_swept_is_a_new_request(client, things, key):
    first = post(client, key, {"name": "Thing"}, "old")
    _age_keys(25)
    again = post(client, key, {"name": "Another thing"}, "old")  # not 422: the key was forgotten
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert [json.loads(get_cipher().decrypt(k.body)) for k in stored_keys()] == [again.json]
    assert again.json != first.json


def test_the_retention_is_never_below_24_hours(app, client, things, key):
    app.config["IDEMPOTENCY_KEY_TTL_HOURS"] = 1
    first = post(client, key, {"name": "Thing"}, "short")
    _age_keys(2)
    assert keys.forget_expired(1) == 0
    database.session.rollback()
    assert post(client, key, {"name": "Thing"}, "short").json == first.json


def test_the_configuration_refuses_a_retention_below_24_hours(tmp_path):
    from registry.core.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="IDEMPOTENCY_KEY_TTL_HOURS must be at least 24"):
        load_config(tmp_path, {"REGISTRY_ENV": "testing", "IDEMPOTENCY_KEY_TTL_HOURS": "12"})
    assert load_config(tmp_path, {"REGISTRY_ENV": "testing"})["IDEMPOTENCY_KEY_TTL_HOURS"] == 24


# --- the document ------------------------------------------------------------------------------


def test_the_openapi_document_shows_the_header_and_its_refusals(app):
    class Thing(ApiModel):
        name: str

    @client_required("bindings")
    @idempotent
    @operation(body=Thing, responses={201: Thing})
    def documented(body: Thing):
        """Make a thing."""
        return body, 201

    app.add_url_rule("/api/v1/test-only/documented", "test_only_documented", documented, methods=["POST"])
    with app.test_request_context():
        document = build_document(app, version="test", server_url="http://localhost/api/v1")
    post_op = document["paths"]["/api/v1/test-only/documented"]["post"]
    [header] = [p for p in post_op["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert header["schema"]["maxLength"] == 255
    assert {"400", "409", "422"} <= set(post_op["responses"])
    assert post_op["security"] == [{"clientKey": []}]
    validate(document)  # openapi-spec-validator: the header's schema is valid OpenAPI 3.1
    whoami = document["paths"]["/api/v1/integration/whoami"]["get"]
    assert not [p for p in whoami["parameters"] if p["in"] == "header"]
