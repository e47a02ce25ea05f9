"""Password guessing on the token endpoint meets Flask-Limiter."""

import pytest

from registry.core.extensions import limiter


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "5 per minute"}


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()
    limiter.enabled = False


def test_token_endpoint_answers_429_with_retry_after(client):
    body = {"email": "x@example.com", "password": "y" * 12}
    statuses = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(5)]
    assert statuses == [401] * 5
    limited = client.post("/api/v1/auth/token", json=body)
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "too_many_requests"
    assert limited.json["error"]["reason"] == "too_many_requests"
    assert limited.json["error"]["message"] == "Too many requests; wait a moment and try again."
    assert int(limited.headers["Retry-After"]) > 0
