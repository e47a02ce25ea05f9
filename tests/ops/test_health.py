"""/healthz, /readyz and the scheduler's heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.core.timeutil import utcnow
from registry.ops import checks
from registry.ops.heartbeat import STALE_AFTER, ages, beat
from registry.ops.models import SchedulerHeartbeat
from tests.ops.support import stamped_at_head


@pytest.fixture
def at_head(app, db):
    with stamped_at_head(app) as heads:
        yield heads


def test_healthz_answers_without_touching_anything(client, app, monkeypatch):
    monkeypatch.setattr(app.extensions["sqlalchemy"], "get_engine", lambda *a, **k: 1 / 0, raising=False)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_ready_with_each_check(client, at_head):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["current"] == sorted(at_head)
    assert body["checks"]["redis"]["skipped"]  # memory:// in tests
    assert body["checks"]["scheduler"]["stale"] is True  # no scheduler ran: reported, not failing


def test_readyz_names_migrations_when_not_at_head(client, at_head, db):
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'old0000'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["migrations"] and response.json["status"] == "unready"
    assert response.json["checks"]["migrations"]["current"] == ["old0000"]


def test_readyz_names_the_database_when_it_cannot_be_reached(client, app, at_head, monkeypatch):
    class Down:
        def connect(self):
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    original = checks.database_and_migrations
    monkeypatch.setattr(checks, "database_and_migrations", lambda engine, heads: original(Down(), heads))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["database", "migrations"]
    assert "OperationalError" in response.json["checks"]["database"]["error"]


def test_a_hung_database_is_given_up_on_after_the_timeout(app, at_head):
    import time

    class Hung:
        def connect(self):
            time.sleep(5)

    started = time.perf_counter()
    result = checks.database_and_migrations(Hung(), ("x",), timeout=0.2)
    assert time.perf_counter() - started < 1.5
    assert result["database"]["ok"] is False and "CheckTimeout" in result["database"]["error"]


def test_readyz_names_redis_when_configured_and_down(client, app, at_head):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["redis"]


def test_readyz_pings_redis_when_configured(client, app, at_head):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379"
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["redis"]["ok"] is True


def test_scheduler_heartbeat_is_reported_by_age(client, db, at_head):
    now = utcnow()
    beat("host-a:1", now - timedelta(minutes=5), now - timedelta(seconds=3))
    beat("host-b:2", now - timedelta(minutes=5), now - timedelta(minutes=10))
    beat("gone:3", now - timedelta(days=3), now - timedelta(days=2))
    beat("host-a:1", now - timedelta(minutes=5), now - timedelta(seconds=1))  # again: one row
    db.session.commit()
    assert db.session.query(SchedulerHeartbeat).count() == 2  # a day's silence is forgotten
    scheduler = client.get("/readyz").json["checks"]["scheduler"]
    assert set(scheduler["workers"]) == {"host-a:1", "host-b:2"}
    assert 0 < scheduler["newest_age_seconds"] < STALE_AFTER.total_seconds()
    assert scheduler["stale"] is False


def test_each_dispatch_pass_beats(app, db):
    from registry.scheduler import JOBS, WORKER_NAME, run_job

    [dispatch] = [job for job in JOBS if job.name == "dispatch-callbacks"]
    run_job(app, dispatch)
    assert ages()[WORKER_NAME] < 5
