"""The simulated phones page and the inbox JSON."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sim_support import API, OWNED_NUMBER


class BodiesByPhone(HTMLParser):
    """Collects the text of `.sms-body` elements under each `[data-phone]`."""

    def __init__(self):
        super().__init__()
        self.phones: dict[str, list[str]] = {}
        self.order: list[str] = []
        self._phone = None
        self._in_body = False
        self.title = ""
        self._in_title = False
        self.refresh = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-phone" in attrs:
            self._phone = attrs["data-phone"]
            self.order.append(self._phone)
            self.phones[self._phone] = []
        if "sms-body" in (attrs.get("class") or "").split():
            self._in_body = True
            self.phones[self._phone].append("")
        if tag == "title":
            self._in_title = True
        if tag == "meta" and attrs.get("http-equiv") == "refresh":
            self.refresh = attrs.get("content")

    def handle_endtag(self, tag):
        self._in_body = False
        self._in_title = False

    def handle_data(self, data):
        if self._in_body:
            self.phones[self._phone][-1] += data
        if self._in_title:
            self.title += data


def parse(response) -> BodiesByPhone:
    parser = BodiesByPhone()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_page_shows_codes_and_texts_per_phone(sim, raw_client, sim_state, owned_number, clock):
    sim.send_code("+8613800138000")
    clock.advance(5)
    sim.post(f"{API}/Messages.json", {"To": "+8613900139000", "From": owned_number, "Body": "<b>hi</b>"})
    page = parse(raw_client.get("/"))
    assert page.title == "Simulated phones"
    assert page.refresh == "2"
    # Newest activity first; the account's idle number last.
    assert page.order == ["+8613900139000", "+8613800138000", OWNED_NUMBER]
    code = sim_state.last_code("+8613800138000")
    assert any(code in body for body in page.phones["+8613800138000"])
    assert page.phones["+8613900139000"] == ["<b>hi</b>"]
    assert page.phones[OWNED_NUMBER] == []
    assert "&lt;b&gt;" in raw_client.get("/phones").get_data(as_text=True)


def test_code_readable_from_the_page_with_a_regex(sim, raw_client, sim_state):
    sim.send_code("+8613800138000")
    body = parse(raw_client.get("/phones")).phones["+8613800138000"][0]
    assert re.search(r"\b(\d{6})\b", body).group(1) == sim_state.last_code("+8613800138000")


def test_inbox_json(sim, raw_client, sim_state):
    sim.send_code("+8613800138000", channel="call")
    data = raw_client.get("/_sim/inbox/+8613800138000").json
    assert data["phone"] == "+8613800138000"
    [message] = data["messages"]
    assert message["kind"] == "voice"
    assert ", ".join(sim_state.last_code("+8613800138000")) in message["body"]
    assert raw_client.get("/_sim/inbox/8613800138000").json == data
    assert raw_client.get("/_sim/inbox/%2B8613800138000").json == data


def test_empty_page(raw_client):
    response = raw_client.get("/")
    assert response.status_code == 200
    assert "No phone has received anything yet" in response.get_data(as_text=True)


def test_reset_forgets_everything(sim, sim_state, owned_number):
    sim.send_code("+8613800138000")
    sim_state.reset()
    assert sim_state.inbox("+8613800138000") == []
    assert sim_state.incoming_numbers() == []
    assert sim_state.last_code("+8613800138000") is None
