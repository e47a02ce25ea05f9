"""Losing the database during requests: reads retried once, writes 503 with Retry-After, JSON
always on /api/, never a bare 500 (registry/core/db_loss.py)."""

import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from tests.conftest import TEST_DATABASE_URL, make_test_app
from tests.factories import make_merchant

APP_NAME = f"registry-db-loss-{uuid.uuid4().hex[:8]}"
needs_postgresql = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL to end sessions")


@pytest.fixture
def app_overrides(database_url):
    if database_url != TEST_DATABASE_URL:
        return {}
    # The app's connections carry a name, so that only they are ended.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"application_name": APP_NAME}}}


def lose_database_once(monkeypatch, calls: list):
    """Make the next statement a request runs fail as a dropped connection does."""
    original = Session._execute_internal  # under execute, scalar(s) and the loaders

    def execute(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise exc.OperationalError("SELECT", {}, Exception("server closed the connection"),
                                       connection_invalidated=True)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Session, "_execute_internal", execute)


def test_a_read_that_loses_its_connection_is_retried_once(app, client, monkeypatch):
    store_id = make_merchant().id
    lose_database_once(monkeypatch, [])
    response = client.get(f"/api/v1/merchants/{store_id}")
    assert response.status_code == 200 and response.json["id"] == store_id
    lose_database_once(monkeypatch, [])
    page = client.get(f"/stores/{store_id}")
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_a_write_that_loses_its_connection_answers_503_json_with_retry_after(app, client, monkeypatch):
    lose_database_once(monkeypatch, [])
    response = client.post("/api/v1/accounts", json={"email": "a@example.com", "password": "x" * 12})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["error"]["code"] == "database_unavailable"


def test_a_form_post_that_loses_its_connection_answers_a_translated_page(app, client, monkeypatch):
    lose_database_once(monkeypatch, [])
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 12},
                           headers={"Accept-Language": "zh"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html" and "服务暂时不可用" in response.text


def test_a_database_that_is_down_answers_503_on_json_and_html(simulator, tmp_path):
    """Nothing listens on port 1: every request that needs the database gets a 503."""
    app = make_test_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", simulator.url, tmp_path)
    client = app.test_client()
    for path in ("/api/v1/merchants/1", "/api/v1/merchants/2"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.is_json and response.json["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "5"
    created = client.post("/api/v1/accounts", json={"email": "a@example.com", "password": "x" * 12})
    assert created.status_code == 503 and created.is_json
    for language, words in (("en", "briefly unavailable"), ("zh", "暂时不可用")):
        page = client.get("/stores/1", headers={"Accept-Language": language})
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert page.mimetype == "text/html" and words in page.text
        assert 'href="/"' in page.text  # a way home


# -- PostgreSQL ending the app's sessions, between requests and under load -----------------


@pytest.fixture
def end_sessions(app):
    """A function that ends every PostgreSQL session the app holds; the count it ended."""
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")

    def end() -> int:
        with admin.connect() as conn:
            return conn.scalar(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": APP_NAME})

    yield end
    admin.dispose()
    from registry.core.extensions import db

    try:
        db.session.remove()
    except exc.DBAPIError:
        pass  # the test's own connection was ended too
    db.engine.dispose()


def _check(response, method: str, counts: dict) -> None:
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    path = response.request.path_url
    assert response.status_code != 500, (method, path, response.text[:300])
    if path.startswith("/api/"):
        assert response.headers["Content-Type"].startswith("application/json"), (path, response.text[:200])
    if method == "GET":
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    else:
        assert response.status_code in (201, 503), (path, response.status_code, response.text[:300])
        if response.status_code == 503:
            assert response.headers["Retry-After"] and \
                response.json()["error"]["code"] == "database_unavailable"


def _requests(url: str, store_id: int, n: int):
    """One round: the public store in JSON and as a page, and a new account (a write)."""
    yield "GET", f"{url}/api/v1/merchants/{store_id}", None
    yield "GET", f"{url}/stores/{store_id}", None
    yield "POST", f"{url}/api/v1/accounts", {"email": f"load{n}-{uuid.uuid4().hex[:6]}@example.com",
                                             "password": "a-long-enough-password"}


@needs_postgresql
def test_sessions_ended_between_requests(app, live_server, end_sessions):
    if app.config["SQLALCHEMY_DATABASE_URI"] != TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only")
    store = make_merchant()
    store_id = store.id
    http = requests.Session()
    counts: dict = {}
    ended = 0
    for n in range(6):
        for method, url, body in _requests(live_server, store_id, n):
            ended += end_sessions()  # the connection the last request used, if the pool kept it
            _check(http.request(method, url, json=body, timeout=10), method, counts)
    assert ended >= 12 and counts.get(200) == 12, (ended, counts)


@needs_postgresql
def test_sessions_ended_under_load(app, live_server, end_sessions):
    if app.config["SQLALCHEMY_DATABASE_URI"] != TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only")
    store_id = make_merchant().id
    counts: dict = {}
    failures: list = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        http = requests.Session()
        n = 0
        while not stop.is_set():
            for method, url, body in _requests(live_server, store_id, worker * 1000 + n):
                response = http.request(method, url, json=body, timeout=20)
                with lock:
                    try:
                        _check(response, method, counts)
                    except AssertionError as error:
                        failures.append(error)
            n += 1

    workers = [threading.Thread(target=client, args=(w,), daemon=True) for w in range(4)]
    for worker in workers:
        worker.start()
    ended = 0
    for _ in range(4):
        time.sleep(0.8)
        ended += end_sessions()
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert ended >= 4
    assert not failures, failures[:3]
    assert counts.get(200, 0) >= 20 and 500 not in counts, counts


def test_losing_the_database_inside_a_refusal_is_still_a_503(app, client, monkeypatch):
    """A wrong password is a refusal that stores its count (`keeps_audit`): should that commit
    lose the database, the answer is still a JSON 503, not a 500 or an HTML page."""
    def commit(self):
        raise exc.OperationalError("COMMIT", {}, Exception("server closed the connection"),
                                   connection_invalidated=True)

    monkeypatch.setattr(Session, "commit", commit)
    response = client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "x" * 12})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.is_json and response.json["error"]["code"] == "database_unavailable"
