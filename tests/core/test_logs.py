"""JSON logs with request ids, and no real phone number or code in any log line.

The journey test runs the main journeys (a merchant proving a number by code, a shopper proving
theirs and asking for a callback that the scheduler places through the simulator, a client's
binding, a staff search by phone) with every logger at DEBUG writing JSON, then greps every
captured line for the numbers and codes used.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from registry.core.logs import JsonFormatter, RequestContext, request_id_from
from registry.scheduler import tick
from tests.factories import bearer, make_callable_merchant, make_client, make_proxy, make_token, make_user

MERCHANT_NEW, SHOPPER = "+8613912345678", "+8613700137000"
MERCHANT, BOUND_SHOPPER, PROXY = "+8613800138000", "+8613700137055", "+8613900000001"


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00", "OUTBOUND_CPS": 0, "RECORD_CALLS": False}


@pytest.fixture
def captured():
    """Every log record of the process, as JSON lines, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    level, root.level = root.level, logging.DEBUG
    quiet = {name: logging.getLogger(name).level for name in ("twilio.http_client", "werkzeug")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)  # the loudest, on purpose
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # as configure_logging sets it
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for name, previous in quiet.items():
        logging.getLogger(name).setLevel(previous)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def forms(e164: str) -> list[str]:
    """The ways a Chinese mobile number could show: E.164, national, spaced."""
    national = e164.removeprefix("+86")
    return [e164, national, f"{national[:3]} {national[3:7]} {national[7:]}", e164[1:]]


def test_request_id_is_kept_when_short_and_printable_else_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    for bad in ("has space", "x" * 200, "quote\"d", "new\nline"):
        given = client.get("/healthz", headers={"X-Request-ID": bad.replace("\n", "%0A")}).headers
        assert given["X-Request-ID"] != bad and len(given["X-Request-ID"]) == 32
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    assert request_id_from("a\x00b") != "a\x00b"


def test_json_lines_carry_request_and_user_ids(app, client, captured):
    user = make_user("merchant")
    token = make_token(user)

    @app.get("/_log_probe")  # a view that logs, signed in
    def probe():
        from flask_login import current_user

        assert current_user.is_authenticated
        logging.getLogger("registry.probe").warning("probe %s", "+8613700137000")
        return "ok"

    client.get("/_log_probe", headers={**bearer(token), "X-Request-ID": "req-42"})
    [line] = [entry for entry in lines(captured) if entry["logger"] == "registry.probe"]
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}
    assert line["level"] == "WARNING" and line["request_id"] == "req-42"


def test_text_stays_the_default_and_json_is_one_object_per_line(tmp_path):
    from registry.core.config import load_config

    assert load_config(tmp_path, {"REGISTRY_ENV": "testing"})["LOG_FORMAT"] == "text"
    record = logging.LogRecord("registry.x", logging.INFO, __file__, 1, "a\nb %s", ("c",), None)
    RequestContext().filter(record)
    text = JsonFormatter().format(record)
    assert "\n" not in text and json.loads(text)["message"] == "a\nb c"


def test_no_real_number_or_code_in_any_log_line_of_the_main_journeys(
        app, client, db, simulator, live_server, fast_calls, captured):
    codes = []
    # A merchant signs up, adds a number and proves it by SMS code.
    owner = bearer(make_token(make_user("merchant", email="owner@example.com")))
    store = client.post("/api/v1/merchants", json={"name": "Log Shop"}, headers=owner).json["id"]
    number = client.post(f"/api/v1/merchants/{store}/numbers", json={"number": "+86 139 1234 5678"},
                         headers=owner).json["id"]
    assert client.post(f"/api/v1/numbers/{number}/verification", json={}, headers=owner).status_code == 202
    codes.append(simulator.state.last_code(MERCHANT_NEW))
    wrong = "000000" if codes[-1] != "000000" else "111111"
    client.post(f"/api/v1/numbers/{number}/verification/check", json={"code": wrong}, headers=owner)
    checked = client.post(f"/api/v1/numbers/{number}/verification/check", json={"code": codes[-1]},
                          headers=owner)
    assert checked.status_code == 200, checked.json
    # A shopper proves a number and asks a callable store for a callback; the scheduler places it.
    fast_calls.add_incoming_number(PROXY)
    make_proxy(PROXY)
    callable_store = make_callable_merchant(MERCHANT)
    db.session.commit()
    client.post("/api/v1/shopper/verification", json={"phone": "137 0013 7000"})
    codes.append(simulator.state.last_code(SHOPPER))
    shopper = client.post("/api/v1/shopper/verification/check", json={"phone": SHOPPER, "code": codes[-1]})
    asked = client.post(f"/api/v1/merchants/{callable_store.id}/callbacks", json={"when": "asap"},
                        headers=bearer(shopper.json["token"]))
    assert asked.status_code == 201, asked.json
    fast_calls.script(MERCHANT, outcome="answer", answer_after=1, digits="1")
    fast_calls.script(SHOPPER, outcome="answer", answer_after=1, hangup_after=5)
    assert tick(app)["dispatch-callbacks"] == {"placed": 1}
    fast_calls.wait_idle(timeout=15)
    # A marketplace binds a shopper to the store; staff search the call log by phone.
    make_proxy("+8613900000002")
    db.session.commit()
    _, key = make_client()
    bound = client.post("/api/v1/bindings", json={"merchant_id": callable_store.id,
                                                  "shopper_phone": BOUND_SHOPPER}, headers=bearer(key))
    assert bound.status_code == 201, bound.json
    staff = bearer(make_token(make_user("staff", email="staff@example.com")))
    found = client.get("/api/v1/call-records", query_string={"phone": SHOPPER}, headers=staff)
    assert found.status_code == 200 and found.json["items"]

    text = captured.getvalue()
    # The journeys were logged (how many lines the call legs add depends on timing).
    assert len(lines(captured)) > 10 and "/Calls.json" in text
    secrets = [form for e164 in (MERCHANT_NEW, SHOPPER, MERCHANT, BOUND_SHOPPER) for form in forms(e164)]
    secrets += [code for code in codes if code]
    leaked = sorted({secret for secret in secrets if secret in text})
    assert leaked == [], f"found in the logs: {leaked}"
