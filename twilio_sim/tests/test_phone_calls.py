"""Calls on the simulated phones page: ringing calls with caller ID, answer, decline, keys, hang up."""

from __future__ import annotations

import time
from html.parser import HTMLParser

from sim_support import OWNED_NUMBER, place_call

MERCHANT = "+8613800138000"
SHOPPER = "+8613900139000"


class CallElements(HTMLParser):
    """Collects `.ringing-call` / `.live-call` elements, their buttons and form actions, and heard lines."""

    def __init__(self):
        super().__init__()
        self.ringing: list[dict] = []
        self.live: list[dict] = []
        self.heard: list[str] = []
        self.text = ""
        self._current = None
        self._form = None
        self._in_heard = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "ringing-call" in classes or "live-call" in classes:
            self._current = {**attrs, "buttons": {}}
            (self.ringing if "ringing-call" in classes else self.live).append(self._current)
        if tag == "form":
            self._form = attrs.get("action")
        if tag == "button" and self._current is not None:
            for name in classes:
                self._current["buttons"][name] = self._form
        if "heard-line" in classes:
            self._in_heard = True
            self.heard.append("")

    def handle_endtag(self, tag):
        if tag == "li":
            self._in_heard = False

    def handle_data(self, data):
        self.text += data
        if self._in_heard:
            self.heard[-1] += data


def page(client) -> CallElements:
    parser = CallElements()
    parser.feed(client.get("/phones").get_data(as_text=True))
    return parser


def wait_until(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def ringing_shopper(sim, voice, product) -> tuple[str, str]:
    """The merchant answers and the app dials the (unscripted) shopper: (parent sid, child sid)."""
    voice.script(MERCHANT, answer_after=1)
    product.on("/voice", f'<Response><Dial callerId="{OWNED_NUMBER}" action="/done" timeout="600">'
                         f"<Number>{SHOPPER}</Number></Dial></Response>")
    product.on("/done", "<Response/>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    wait_until(lambda: voice.call(sid).children)
    child = voice.call(sid).children[0]
    voice.wait_for_call(child, "ringing")
    return sid, child


def test_ringing_call_shows_the_caller_id_and_answering_it_bridges(sim, raw_client, voice, product):
    sid, child = ringing_shopper(sim, voice, product)
    shown = page(raw_client)
    [ringing] = shown.ringing
    assert (ringing["data-phone"], ringing["data-caller"]) == (SHOPPER, OWNED_NUMBER)
    assert ringing["data-sid"] == child
    assert "Incoming call from +1 500-555-0006" in " ".join(shown.text.split())
    assert set(ringing["buttons"]) >= {"answer", "decline"}

    response = raw_client.post(ringing["buttons"]["answer"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/phones")
    voice.wait_for_call(child, "in-progress")
    live = page(raw_client).live
    assert any(call["data-sid"] == child for call in live)
    hangup = next(call for call in live if call["data-sid"] == child)["buttons"]["hangup"]
    raw_client.post(hangup)
    voice.wait_idle(5)
    assert voice.call(child).status == "completed"
    assert product.forms("/done")[0]["DialCallStatus"] == "completed"
    # Answering a call that is no longer ringing changes nothing and says so.
    again = raw_client.post(ringing["buttons"]["answer"], headers={"Accept": "application/json"})
    assert again.status_code == 409 and again.json["ok"] is False


def test_declining_gives_the_app_busy(sim, raw_client, voice, product):
    sid, child = ringing_shopper(sim, voice, product)
    [ringing] = page(raw_client).ringing
    raw_client.post(ringing["buttons"]["decline"])
    voice.wait_idle(5)
    assert voice.call(child).status == "busy"
    assert product.forms("/done")[0]["DialCallStatus"] == "busy"


def test_keypad_and_what_was_said(sim, raw_client, voice, product):
    voice.script(MERCHANT, outcome="manual")
    product.on("/voice", '<Response><Gather numDigits="1" timeout="600" action="/choice">'
                         "<Say>Press 5 to talk to the shopper.</Say></Gather></Response>")
    product.on("/choice", "<Response><Say>Thank you.</Say></Response>")
    sid = place_call(sim, MERCHANT, product.url + "/voice")["sid"]
    voice.wait_for_call(sid, "ringing")
    [ringing] = page(raw_client).ringing
    assert (ringing["data-phone"], ringing["data-caller"]) == (MERCHANT, OWNED_NUMBER)
    raw_client.post(ringing["buttons"]["answer"])
    wait_until(lambda: voice.call(sid).heard)
    shown = page(raw_client)
    assert "Press 5 to talk to the shopper." in shown.heard
    keypad = shown.live[0]["buttons"]["key"]
    assert raw_client.post(keypad, data={"digits": "5"}).status_code == 303
    voice.wait_idle(5)
    assert product.forms("/choice")[0]["Digits"] == "5"
    assert "Thank you." in page(raw_client).heard  # the ended call's log keeps what was said


def test_calling_the_proxy_from_a_phone(raw_client, voice, product):
    voice.find_number(OWNED_NUMBER).voice_url = product.url + "/incoming"
    product.on("/incoming", "<Response><Say>Nobody is bound to this number.</Say><Hangup/></Response>")
    shown = raw_client.get("/phones").get_data(as_text=True)
    assert 'action="/_sim/calls"' in shown
    response = raw_client.post("/_sim/calls", data={"from": SHOPPER, "to": OWNED_NUMBER},
                               headers={"Accept": "application/json"})
    assert response.status_code == 200
    sid = response.json["call"]["sid"]
    voice.wait_idle(5)
    assert voice.call(sid).heard == ("Nobody is bound to this number.",)
    # The caller's phone now has its own card, with a form to call again.
    assert f'action="/_sim/phones/{SHOPPER}/call"' in raw_client.get("/phones").get_data(as_text=True)
    again = raw_client.post(f"/_sim/phones/{SHOPPER}/call", data={"to": OWNED_NUMBER})
    assert again.status_code == 303
    voice.wait_idle(5)
    assert len(voice.calls_for_phone(SHOPPER)) == 2
    bad = raw_client.post("/_sim/calls", data={"from": "call me", "to": OWNED_NUMBER})
    assert "error=" in bad.headers["Location"]


def test_the_page_updates_its_live_part_without_reloading(raw_client, voice):
    html = raw_client.get("/phones").get_data(as_text=True)
    # Without JavaScript the page refreshes itself; with it, a script fetches only what changes.
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert '<div id="live" data-poll="/_sim/phones-live" data-period="2">' in html
    assert '<script src="/static/phones.js"></script>' in html and "location.reload" not in html
    script = raw_client.get("/static/phones.js")
    assert script.status_code == 200 and "location.reload" not in script.get_data(as_text=True)
    script.close()
    first = raw_client.get("/_sim/phones-live")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    part = first.get_data(as_text=True)
    assert "<html" not in part and 'data-key="phones"' in part
    # Nothing changed: the browser's revalidation gets a bodyless 304.
    etag = first.headers["ETag"]
    same = raw_client.get("/_sim/phones-live", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    # A text arrives: the live part changes, with a new ETag.
    voice.deliver(SHOPPER, OWNED_NUMBER, "Your code is 123456")
    changed = raw_client.get("/_sim/phones-live", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Your code is 123456" in changed.get_data(as_text=True)
