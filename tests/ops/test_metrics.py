"""/metrics: what it counts, what it reads at scrape time, and who may read it."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from registry.calllog.verification import run_verification
from registry.core.metrics import DISPATCH_LAG, TWILIO_REQUESTS
from registry.scheduler import tick
from tests.callbacks.conftest import MERCHANT, SHOPPER
from tests.factories import make_callable_merchant, make_proxy


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0, "RECORD_CALLS": False}


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return {family.name: family.samples for family in families}


def value(samples, name, **labels) -> float:
    return sum(s.value for s in samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_http_requests_are_counted_by_endpoint_and_status(client):
    client.get("/healthz")
    client.get("/stores/999999")
    metrics = scrape(client)
    http = metrics["registry_http_requests"]
    assert value(http, "registry_http_requests_total", endpoint="ops.healthz", status="200") >= 1
    assert value(http, "registry_http_requests_total", endpoint="public.store", status="404") >= 1
    latency = metrics["registry_http_request_duration_seconds"]
    assert value(latency, "registry_http_request_duration_seconds_count", endpoint="ops.healthz") >= 1
    assert not any("999999" in str(s.labels) for s in http)  # the rule's name, never the path


def test_verifications_twilio_pool_callbacks_lag_and_chain(app, client, db, simulator, live_server,
                                                           fast_calls):
    from tests.factories import bearer

    before_lag = DISPATCH_LAG._sum.get()
    before_verify = TWILIO_REQUESTS.labels("verify", "POST", "ok")._value.get()
    make_proxy("+8613900000001")
    fast_calls.add_incoming_number("+8613900000001")
    store = make_callable_merchant(MERCHANT)
    db.session.commit()
    client.post("/api/v1/shopper/verification", json={"phone": SHOPPER})
    client.post("/api/v1/shopper/verification/check", json={"phone": SHOPPER, "code": "000000"
                if simulator.state.last_code(SHOPPER) != "000000" else "111111"})
    token = client.post("/api/v1/shopper/verification/check",
                        json={"phone": SHOPPER, "code": simulator.state.last_code(SHOPPER)}).json["token"]
    assert client.post(f"/api/v1/merchants/{store.id}/callbacks", json={"when": "asap"},
                       headers=bearer(token)).status_code == 201
    fast_calls.script(MERCHANT, outcome="busy")
    assert tick(app)["dispatch-callbacks"] == {"placed": 1}
    fast_calls.wait_idle(timeout=15)
    with app.app_context():
        run_verification()
        db.session.commit()
    metrics = scrape(client)
    attempts = metrics["registry_verification_attempts"]
    for action, outcome in (("send", "sent"), ("check", "wrong_code"), ("check", "approved")):
        assert value(attempts, "registry_verification_attempts_total", action=action, outcome=outcome) >= 1
    assert TWILIO_REQUESTS.labels("verify", "POST", "ok")._value.get() >= before_verify + 3
    assert value(metrics["registry_twilio_requests"], "registry_twilio_requests_total", product="api",
                 outcome="ok") >= 1
    assert DISPATCH_LAG._sum.get() >= before_lag
    assert value(metrics["registry_callback_dispatch_lag_seconds"],
                 "registry_callback_dispatch_lag_seconds_count") >= 1
    callbacks = metrics["registry_callbacks"]
    assert sum(s.value for s in callbacks) == 1
    assert value(metrics["registry_pool_free"], "registry_pool_free", country="CN") >= 1
    assert value(metrics["registry_pool_capacity"], "registry_pool_capacity", country="CN") >= 1
    assert 0 <= value(metrics["registry_calllog_last_verified_age_seconds"],
                      "registry_calllog_last_verified_age_seconds") < 60
    ok = "registry_calllog_last_verification_ok"
    assert value(metrics[ok], ok) == 1
    assert value(metrics["registry_scrape_errors"], "registry_scrape_errors_total") == 0
    assert metrics["registry_scheduler_heartbeat_age_seconds"]
    text = client.get("/metrics").get_data(as_text=True)
    assert "13700137000" not in text and "13800138000" not in text


def test_webhook_deliveries_are_counted_by_outcome(app):
    from registry.core.metrics import WEBHOOK_DELIVERIES
    from registry.webhooks import delivery

    assert "WEBHOOK_DELIVERIES" in delivery.__dict__  # counted where each batch is recorded
    before = WEBHOOK_DELIVERIES.labels("succeeded")._value.get()
    WEBHOOK_DELIVERIES.labels("succeeded").inc()
    assert WEBHOOK_DELIVERIES.labels("succeeded")._value.get() == before + 1


def test_metrics_token_is_required_when_set(client, app):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, Authorization="Bearer scrape-secret")


def test_production_without_a_token_keeps_metrics_closed(client, app):
    app.config.update(REGISTRY_ENV="production", METRICS_TOKEN="")
    response = client.get("/metrics")
    assert response.status_code == 403 and b"METRICS_TOKEN" in response.data


def test_multiprocess_mode_adds_up_every_worker(app, tmp_path):
    """Two gunicorn workers' files in PROMETHEUS_MULTIPROC_DIR, read by one scrape."""
    import subprocess
    import sys

    program = ("import os; os.environ['PROMETHEUS_MULTIPROC_DIR'] = {d!r}\n"
               "from prometheus_client import Counter\n"
               "Counter('registry_http_requests', 'x', ('endpoint', 'method', 'status'))"
               ".labels('ops.healthz', 'GET', '200').inc({n})\n")
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", program.format(d=str(tmp_path), n=n)], check=True)
    from registry.core.metrics import render

    text = render({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}).decode()
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    http = families["registry_http_requests"]
    assert value(http, "registry_http_requests_total", endpoint="ops.healthz") == 5
