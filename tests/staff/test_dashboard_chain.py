"""The dashboard's call-log tile tells the truth: the chain's sealed length now, the last
verification's time and result, and a "Verify now" button that walks the chain."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import text

from registry.audit.models import StaffAudit
from registry.calllog.chain import append, seal_pending
from registry.calllog.verification import run_verification
from registry.core.extensions import db as database
from tests.factories import PASSWORD, make_user

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def staff(client):
    user = make_user("staff", email="agent@example.com")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def tile(page: str) -> str:
    match = re.search(r'<li class="tile tile-chain" id="chain-status">(.*?)</li>', page, re.S)
    assert match, "no chain tile"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def log(n: int, start: int = 0, seal: bool = True) -> None:
    for i in range(start, start + n):
        append("status", "twilio", {"status": "ringing", "i": i}, call_sid=f"CA{i:032d}",
               dedupe_key=f"k{i}")
    database.session.commit()
    if seal:
        seal_pending()


def test_a_fresh_install_shows_the_sealed_chain_not_the_first_days_zero(client, staff):
    # The scheduler verifies once as it starts (an empty log), then daily; sealing runs every second.
    run_verification()
    database.session.commit()
    log(3)
    log(2, start=3, seal=False)
    shown = tile(client.get("/staff/").text)
    assert shown.startswith("3 events in the call log"), shown
    assert "intact: 0 events verified" in shown
    assert "3 newer events not verified yet" in shown and "2 events being sealed" in shown
    assert "Verify now" in shown


def test_verify_now_walks_the_chain_and_keeps_the_result(client, staff):
    log(4)
    assert "not verified yet" in tile(client.get("/staff/").text)
    answer = client.post("/staff/chain/verify")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/")
    page = client.get("/staff/").text
    assert "The call log is intact: 4 events verified." in page
    shown = tile(page)
    assert shown.startswith("4 events in the call log") and "intact: 4 events verified" in shown
    assert "not verified yet" not in shown
    database.session.expire_all()
    [entry] = database.session.query(StaffAudit).filter_by(action="verify").all()
    assert entry.target == "call_log" and entry.detail["events"] == 4 and entry.detail["ok"] is True
    zh = tile(client.get("/staff/", headers=ZH).text)
    assert "立即验证" in zh and "Verify" not in zh and "events" not in zh


def test_a_tampered_log_shows_where_it_broke(client, staff):
    log(5)
    database.session.execute(text("UPDATE call_events SET data = :d WHERE seq = 3"),
                             {"d": '{"status": "busy"}'})
    database.session.commit()
    client.post("/staff/chain/verify")
    page = client.get("/staff/").text
    assert "The call log is broken at event 3" in page
    assert "log broken at event 3" in tile(page)


def test_verify_now_needs_staff_and_its_csrf_token(client, app):
    assert client.post("/staff/chain/verify").status_code == 302  # to the login
    user = make_user("staff", email="agent2@example.com")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/staff/chain/verify").status_code == 400  # CSRFProtect refuses it
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    database.session.expire_all()
    assert database.session.query(StaffAudit).filter_by(action="verify").count() == 0
