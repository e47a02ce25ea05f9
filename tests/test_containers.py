"""The container setup: gunicorn started with gunicorn.conf.py against SQLite, answering the
probes and the scrape; the Dockerfile and compose.yaml as the deployment docs describe them."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local http URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def gunicorn(tmp_path):
    """Two gunicorn workers on a free port, configured by gunicorn.conf.py, on a migrated SQLite."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "REGISTRY_ENV": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "SECRET_KEY": "k" * 40,
           "DATA_KEY": "d" * 40, "LOG_FORMAT": "json", "WEB_CONCURRENCY": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "METRICS_TOKEN": "scrape"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                                "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(f"{url}/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield url, tmp_path / "gunicorn.log"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_gunicorn_with_its_config_serves_the_probes_and_the_scrape(gunicorn):
    url, log = gunicorn
    status, headers, body = get(f"{url}/healthz", **{"X-Request-ID": "probe-1"})
    assert status == 200 and json.loads(body) == {"status": "ok"} and headers["X-Request-ID"] == "probe-1"
    status, _, body = get(f"{url}/readyz")
    ready = json.loads(body)
    assert status == 200, ready
    assert ready["checks"]["database"]["ok"] and ready["checks"]["migrations"]["ok"]
    for _ in range(6):  # spread over both workers
        get(f"{url}/stores?phone=%2B8613700137000")
    assert get(f"{url}/metrics")[0] == 401
    status, _, body = get(f"{url}/metrics", Authorization="Bearer scrape")
    assert status == 200
    text = body.decode()
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("registry_http_requests_total{")
                  and 'endpoint="public.directory"' in line)
    assert counted == 6  # every worker's requests, whichever one answered the scrape
    time.sleep(0.5)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any("request_id=probe-1" in line["message"] for line in access)
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    assert "13700137000" not in log.read_text()
    assert any("phone=[hidden]" in line["message"] for line in access)


def test_the_config_keeps_timeouts_under_twilios_webhook_limit():
    values: dict = {}
    environ = dict(os.environ)
    try:
        exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), values)  # noqa: S102
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert values["timeout"] < 15 and values["graceful_timeout"] < 15
    assert values["workers"] >= 1 and callable(values["child_exit"])


def test_dockerfile_runs_gunicorn_as_a_non_root_user_with_compiled_translations():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "pybabel compile" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]' in text


def test_compose_starts_two_web_two_schedulers_and_their_dependencies():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web-1", "web-2", "scheduler-1", "scheduler-2", "postgres", "redis", "minio",
            "migrate"} <= set(services)
    for name in ("web-1", "web-2", "scheduler-1", "scheduler-2"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = service["environment"]
        assert env["RATELIMIT_STORAGE_URI"].startswith("redis://")
        assert env["REGISTRY_ENV"] == "production"
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert "healthcheck" in services["web-1"] and "/readyz" in str(services["web-1"]["healthcheck"])
    assert services["scheduler-1"]["command"][-2:] == ["scheduler", "run"]


def _compose() -> list[str] | None:
    """The Compose command this machine has: the docker client's plugin, or the standalone
    `docker-compose` (Debian's package; `.ci/run` installs it); None if neither."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file_and_wants_the_secrets(tmp_path):
    command = _compose()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    text = (ROOT / "compose.yaml").read_text()
    secrets = sorted(set(re.findall(r"\$\{([A-Z_]+):\?", text)))
    assert {"SECRET_KEY", "DATA_KEY", "TWILIO_AUTH_TOKEN"} <= set(secrets)
    given = {**os.environ, **dict.fromkeys(secrets, "placeholder")}

    def config(path: Path, env: dict) -> subprocess.CompletedProcess:
        return subprocess.run([*command, "-f", str(path), "config", "--quiet"], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=60)

    accepted = config(ROOT / "compose.yaml", given)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    # The check is a real one: a misspelt option is refused, and so is a start without a secret.
    misspelt = tmp_path / "compose.yaml"
    misspelt.write_text(text.replace("depends_on:", "depends_onn:", 1))
    assert config(misspelt, given).returncode != 0
    unset = config(ROOT / "compose.yaml", {k: v for k, v in given.items() if k != "DATA_KEY"})
    assert unset.returncode != 0 and "DATA_KEY" in unset.stdout + unset.stderr
