"""Several hosts at once (issue 17's multi-host check): 2 gunicorn instances and 2 `scheduler run`
processes on one fresh PostgreSQL database, one Redis (rate limits) and moto's S3 server
(recordings), with the Twilio simulator; journeys go through both web instances in turn, one web
instance and one scheduler are killed with SIGKILL midway, and then:

- every callback asked for is placed exactly once (one attempt in the database, one call to the
  store's number at the simulator): nothing lost, nothing twice;
- limits are shared: the per-number resend limit hit through web A holds on web B, and so does
  the auth rate limit (kept in Redis);
- each once-per-period job ran once per period (one `job_runs` row per job and period; the daily
  jobs one row each).

- a recording copied into S3 (moto) by a scheduler is served alike through web A and web B
  (the signed link's 302 to the bucket, followed).

Not shown here: the webhooks of the simulator all go to web A (PUBLIC_BASE_URL; no load balancer
stands in front), so web B is the instance killed; the kills fall between dispatch passes' claims
(a claim's lease is 120 s; killed claims are tests/callbacks/test_crash_safety.py's).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import boto3 as S3
import pytest
import sqlalchemy as sa

from tests.calllog.s3 import moto_s3_server  # noqa: F401 - fixture
from tests.conftest import TEST_DATA_KEY, TEST_DATABASE_URL, make_test_app

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("MULTIHOST_REDIS_URL", "redis://127.0.0.1:6379/7")
PROXIES = ("+8613900000101", "+8613900000102", "+8613900000103", "+8613900000104")
DAILY = ("retention", "verify-call-log", "forget-integration-calls", "forget-job-runs")

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL only (TEST_DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method: str, url: str, body: dict | None = None, token: str | None = None):
    """(status, JSON answer) of one request; never raises on an HTTP error status."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - local
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)


def ready(base: str) -> bool:
    try:
        return call("GET", f"{base}/readyz")[0] == 200
    except OSError:
        return False


def wait_for(condition, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def fresh_database():
    """A database of its own (created, dropped after), on the server of TEST_DATABASE_URL."""
    url = sa.engine.make_url(TEST_DATABASE_URL)
    name = f"{url.database}_hosts"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))

    drop()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop()
        admin.dispose()


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()  # this test's own database number
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def bucket(s3_server):
    import boto3

    name = f"recordings-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}/calls/"


class Hosts:
    """The processes started, killed in `stop` whatever happened."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path, self.env, self.processes, self.logs = tmp_path, env, {}, {}

    def start(self, name: str, args: list[str], **env) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("w")
        self.logs[name] = log
        process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def web(self, name: str, port: int) -> str:
        self.start(name, [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                          "wsgi:app"], WEB_CONCURRENCY="2",
                   PROMETHEUS_MULTIPROC_DIR=str(self.tmp_path / f"metrics-{name}"))
        return f"http://127.0.0.1:{port}"

    def scheduler(self, name: str) -> None:
        self.start(name, [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"])

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group: the host is gone, its workers with it."""
        process = self.processes[name]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def log(self, name: str) -> str:
        self.logs[name].flush()
        return (self.tmp_path / f"{name}.log").read_text()[-3000:]

    def stop(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    process.wait(timeout=20)
            self.logs[name].close()


def seed(app, simulator, stores: int):
    """Stores to call (one number each), the proxy pool wired to web A, and an integration key."""
    from registry.core.extensions import db
    from registry.masking.pool import sync_with_provider
    from registry.telephony import get_gateway
    from tests.factories import make_callable_merchant, make_client, make_proxy

    with app.app_context():
        for e164 in PROXIES:
            simulator.state.add_incoming_number(e164)
            make_proxy(e164)
        sync_with_provider(get_gateway(), app.config["PUBLIC_BASE_URL"])
        merchants = [make_callable_merchant(f"+86138001{n:05d}", name=f"Store {n}") for n in range(stores)]
        _, key = make_client("Shop A", scopes=("bindings", "callbacks"))
        db.session.commit()
        return [(m.id, m.numbers[0].e164) for m in merchants], key


def recording_sid(app, record_id: int) -> str:
    from registry.calllog.models import CallRecord
    from registry.core.extensions import db

    with app.app_context():
        sid = db.session.get(CallRecord, record_id).recording_sid
        db.session.remove()
    return sid


def verified_shopper(simulator, base: str, phone: str) -> str:
    status, body = call("POST", f"{base}/api/v1/shopper/verification", {"phone": phone})
    assert status == 202, body
    code = wait_for(lambda: simulator.state.last_code(phone), 20, f"the code sent to {phone}")
    status, body = call("POST", f"{base}/api/v1/shopper/verification/check", {"phone": phone, "code": code})
    assert status == 200, body
    return body["token"]


def ask_callback(simulator, base: str, n: int, merchant_id: int) -> int:
    token = verified_shopper(simulator, base, f"+86137001{n:05d}")
    status, body = call("POST", f"{base}/api/v1/merchants/{merchant_id}/callbacks",
                        {"when": "asap", "order_ref": f"MH-{n}"}, token)
    assert status == 201, body
    return body["id"]


def test_two_web_instances_and_two_schedulers_lose_nothing_and_share_limits(
        fresh_database, redis_url, bucket, s3_server, simulator, tmp_path):
    from registry.callbacks.models import CallbackAttempt
    from registry.calllog.links import make_link
    from registry.calllog.models import CallRecord
    from registry.core.extensions import db
    from registry.core.periodic import JobRun

    port_a, port_b = free_port(), free_port()
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "REGISTRY_ENV": "development",
           "DATABASE_URL": fresh_database, "SECRET_KEY": "test-secret-key", "DATA_KEY": TEST_DATA_KEY,
           "TWILIO_API_URL": simulator.url, "PUBLIC_BASE_URL": base_a,
           "RATELIMIT_STORAGE_URI": redis_url, "AUTH_RATE_LIMIT": "3 per minute",
           "RECORDINGS_STORAGE": bucket, "RECORDINGS_S3_ENDPOINT_URL": s3_server,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": "0",
           "JOB_LEASE_SECONDS": "10", "VERIFY_SENDS_PER_IP_HOUR": "1000",
           "LOG_LEVEL": "WARNING"}
    migrated = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    app = make_test_app(fresh_database, simulator.url, tmp_path / "seed", PUBLIC_BASE_URL=base_a)
    simulator.state.reset()
    previous_scale, simulator.state.time_scale = simulator.state.time_scale, 0.01
    stores, key = seed(app, simulator, stores=8)
    for n, (_, number) in enumerate(stores):  # each store answers and puts the shopper through
        simulator.state.script(number, answer_after=1, hangup_after=30, digits="1")
        simulator.state.script(f"+86137001{n:05d}", answer_after=1, hangup_after=10)

    hosts = Hosts(tmp_path, env)
    try:
        hosts.web("web-a", port_a)
        hosts.web("web-b", port_b)
        for base in (base_a, base_b):
            wait_for(lambda base=base: ready(base), 120, f"{base} ready")
        hosts.scheduler("scheduler-1")
        hosts.scheduler("scheduler-2")

        # Limits shared: the resend limit for a number asked through A holds on B…
        phone = "+8613700199999"
        assert call("POST", f"{base_a}/api/v1/shopper/verification", {"phone": phone})[0] == 202
        status, body = call("POST", f"{base_b}/api/v1/shopper/verification", {"phone": phone})
        assert status == 429 and body["error"]["reason"] == "too_many_codes.resend", body
        # …and the auth rate limit spent through A (3 a minute) refuses on B (Redis).
        wrong = {"email": "nobody@example.com", "password": "wrong-password"}
        assert [call("POST", f"{base_a}/api/v1/auth/token", wrong)[0] for _ in range(3)] == [401] * 3
        assert call("POST", f"{base_b}/api/v1/auth/token", wrong)[0] == 429

        # First half of the journeys, alternately through A and B; a binding by a client key on each.
        bases = (base_a, base_b)
        requests = {ask_callback(simulator, bases[n % 2], n, stores[n][0]): stores[n][1] for n in range(4)}
        for n, base in enumerate(bases):
            status, body = call("POST", f"{base}/api/v1/bindings",
                                {"merchant_id": stores[n][0], "shopper_phone": f"+86137005{n:05d}",
                                 "order_ref": f"B-{n}"}, key)
            assert status == 201, body

        def attempts() -> Counter:
            with app.app_context():
                rows = db.session.scalars(sa.select(CallbackAttempt.request_id)).all()
                db.session.remove()
            return Counter(rows)

        wait_for(lambda: set(requests) <= set(attempts()), 120, "the first callbacks placed")

        # Recordings: copied into the bucket by whichever scheduler's copy job ran (once a
        # minute), then served through a signed link by either instance alike.
        def stored() -> int | None:
            with app.app_context():
                found = db.session.scalar(sa.select(CallRecord.id).where(
                    CallRecord.recording_status == "stored").limit(1))
                db.session.remove()
            return found

        record_id = wait_for(stored, 150, "a recording copied into the bucket", every=2)
        with app.app_context():
            path = make_link(record_id).url.removeprefix(base_a)
        audio = [urllib.request.urlopen(base + path, timeout=30).read() for base in bases]  # noqa: S310
        assert audio[0] and audio[0] == audio[1]
        assert audio[0] == S3.client("s3", endpoint_url=s3_server, region_name="us-east-1").get_object(
            Bucket=bucket[5:].split("/")[0], Key=f"calls/{recording_sid(app, record_id)}.wav")["Body"].read()
        # Midway: web B and scheduler 1 die (SIGKILL, with their workers).
        hosts.kill("web-b")
        hosts.kill("scheduler-1")
        assert call("GET", f"{base_a}/healthz")[0] == 200

        for n in range(4, 8):
            requests[ask_callback(simulator, base_a, n, stores[n][0])] = stores[n][1]
        wait_for(lambda: set(requests) <= set(attempts()), 120, "the later callbacks placed")
        simulator.state.wait_idle(timeout=60)
        time.sleep(3)  # a pass of the surviving scheduler that might (wrongly) place one again

        placed = attempts()
        assert placed == Counter({request_id: 1 for request_id in requests}), (
            placed, hosts.log("scheduler-2"))
        to = Counter(c.to for c in simulator.state.calls() if c.parent_sid is None)
        assert all(to[number] == 1 for number in requests.values()), to

        # Each once-per-period job ran once per period, whichever scheduler claimed it.
        with app.app_context():
            runs = db.session.execute(sa.select(JobRun.job, JobRun.period_start)).all()
            db.session.remove()
        per_period = Counter(runs)
        assert per_period and max(per_period.values()) == 1, per_period
        per_job = Counter(job for job, _ in runs)
        assert all(per_job[job] == 1 for job in DAILY), per_job
        assert hosts.processes["scheduler-2"].poll() is None, hosts.log("scheduler-2")
        assert hosts.processes["web-a"].poll() is None, hosts.log("web-a")
    finally:
        hosts.stop()
        simulator.state.time_scale = previous_scale
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
