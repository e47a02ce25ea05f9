"""The staff console's proxy pool page: admins see live figures per number and per country,
search Twilio (the simulator), buy, drain and release, each audited; plain staff and merchants
are refused; a refusal shows the page again with its message and status."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from registry.audit.models import StaffAudit
from registry.core.extensions import db as database
from registry.masking.models import ProxyNumber
from tests.factories import make_binding, make_proxy, sign_in_as
from tests.pages import text_of
from tests.pool_support import restore_simulator_numbers  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("restore_simulator_numbers")
PAGE = "/staff/pool/"


def actions() -> list[str]:
    database.session.expire_all()
    return [a.action for a in database.session.scalars(sa.select(StaffAudit).order_by(StaffAudit.id))]


def test_the_page_shows_each_number_and_each_country(client, db, admin):
    make_proxy("+8613900000001", cap=4)
    make_proxy("+8613900000099", shared=True)
    make_proxy("+14155550100")
    make_binding("+8613800138000", "+8613700137000", country="CN")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'href="/staff/pool/"' in page.text and 'aria-current="page"' in page.text
    assert re.search(r'<meter class="pool-meter" min="0" max="4" [^>]*value="1"', page.text)
    assert "style=" not in page.text  # the CSP forbids inline styles
    text = text_of(page.text)
    assert "+8613900000001" in text and "1 / 4" in text and "shared" in text
    row = text_of(re.search(r'<tr id="country-CN".*?</tr>', page.text, re.S).group(0))
    assert row == "CN 1 0 3 / 4 0"  # active numbers, draining, free / capacity, fallbacks in 24 h
    assert 'id="low-CN"' not in page.text


def test_a_low_country_is_warned_on_the_page_and_the_dashboard(client, db, admin, app):
    make_proxy("+8613900000001", cap=1)
    make_binding()
    assert 'id="low-CN"' in client.get(PAGE).text
    dashboard = client.get("/staff/")
    assert 'id="dashboard-low-CN"' in dashboard.text and "0 of 1 bindings free" in text_of(dashboard.text)


def test_search_and_buy_against_the_simulator(client, db, admin, simulator):
    results = client.get(PAGE, query_string={"country": "us", "type": "local", "area_code": "415"})
    assert results.status_code == 200
    numbers = re.findall(r'name="phone_number" value="(\+1415\d+)"', results.text)
    assert numbers
    bought = client.post(f"{PAGE}buy", data={"phone_number": numbers[0]})
    assert bought.status_code == 302
    page = client.get(PAGE)
    assert f"{numbers[0]} is bought" in text_of(page.text)
    assert simulator.state.find_number(numbers[0]).sms_url.endswith("/webhooks/twilio/sms/incoming")
    assert actions() == ["pool_buy"]


def test_buying_a_number_twilio_says_is_gone_shows_why(client, db, admin, simulator):
    results = client.get(PAGE, query_string={"country": "GB", "type": "mobile"})
    number = re.findall(r'name="phone_number" value="(\+44\d+)"', results.text)[0]
    simulator.state.sold_elsewhere.add(number)
    refused = client.post(f"{PAGE}buy", data={"phone_number": number})
    assert refused.status_code == 409
    assert "no longer available at Twilio" in text_of(refused.text)
    assert database.session.scalar(sa.select(sa.func.count(ProxyNumber.id))) == 0
    assert actions() == []


def test_a_country_twilio_does_not_know_is_refused_by_its_field(client, db, admin):
    refused = client.get(PAGE, query_string={"country": "ZZ"})
    assert refused.status_code == 422
    assert re.search(r'id="country-error".*Twilio sells no numbers of that type in ZZ', refused.text, re.S)
    bad = client.get(PAGE, query_string={"country": "US", "area_code": "4x"})
    assert bad.status_code == 422 and 'id="area_code-error"' in bad.text


def test_drain_then_release(client, db, admin, simulator):
    sid = simulator.state.add_incoming_number("+8613900100098")
    proxy = make_proxy("+8613900100098", provider_sid=sid)
    page = client.get(PAGE)
    assert f'action="/staff/pool/{proxy.id}/drain"' in page.text and "data-confirm=" in page.text
    assert client.post(f"{PAGE}{proxy.id}/drain").status_code == 302
    assert "is draining" in text_of(client.get(PAGE).text)
    assert client.post(f"{PAGE}{proxy.id}/release").status_code == 302
    database.session.expire_all()
    assert database.session.get(ProxyNumber, proxy.id).status == "released"
    assert sid not in simulator.state.numbers
    assert actions() == ["pool_drain", "pool_release"]


def test_releasing_a_number_with_active_bindings_is_refused_with_the_count(client, db, admin):
    proxy = make_proxy("+8613900000001")
    make_binding()
    refused = client.post(f"{PAGE}{proxy.id}/release")
    assert refused.status_code == 409
    assert "still carries 1 active binding(s)" in text_of(refused.text)
    database.session.expire_all()
    assert database.session.get(ProxyNumber, proxy.id).status == "active"
    assert actions() == []


def test_in_chinese(client, db, admin):
    make_proxy("+8613900000001")
    page = client.get(PAGE, headers={"Accept-Language": "zh"})
    assert "平台号码池" in page.text and "排空" in page.text and "释放" in page.text


@pytest.mark.parametrize("role", ["staff", "merchant"])
def test_non_admins_are_refused(client, db, role, simulator):
    sign_in_as(client, role)
    proxy = make_proxy("+8613900000001")
    owned = len(simulator.state.numbers)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE, query_string={"country": "US"}).status_code == 403
    assert client.post(f"{PAGE}buy", data={"phone_number": "+14155550142"}).status_code == 403
    assert client.post(f"{PAGE}{proxy.id}/drain").status_code == 403
    assert client.post(f"{PAGE}{proxy.id}/release").status_code == 403
    database.session.expire_all()
    assert database.session.get(ProxyNumber, proxy.id).status == "active"
    assert len(simulator.state.numbers) == owned


def test_strangers_are_sent_to_sign_in(client, db):
    assert client.get(PAGE).status_code == 302
