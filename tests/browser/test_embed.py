"""The embeddable button in a real browser, on a shop's page served from another origin: the
shopper proves their number and picks a slot inside the framed flow, the shop's page receives
the events, the request is scheduled; a page whose origin is not on the store's list cannot
frame the flow; bad embeds render nothing and warn once."""

from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from registry.callbacks.models import CallbackRequest
from registry.core.extensions import db as database
from registry.core.timeutil import as_utc
from registry.merchants.embed import set_embed_origins
from tests.factories import make_callable_merchant

SHOPPER = "+8613700137000"
# The shop's own script: it keeps every message it receives, with its origin.
LISTEN = """<script>
window.__events = [];
window.addEventListener("message", function (e) { window.__events.push({origin: e.origin, data: e.data}); });
</script>"""
# Host styles that would restyle every button and iframe on the page, if they could reach ours.
HOSTILE_STYLE = ("<style>button { background: rgb(0, 255, 0) !important; font-size: 40px; } "
                 "iframe { display: none; }</style>")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


class Shop:
    """A shop's web server on its own port (another origin than the registry): `pages` maps a
    path to its HTML."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True, name="shop")

    def wsgi(self, environ, start_response):
        html = self.pages.get(Request(environ).path)
        response = Response(html or "not found", status=200 if html else 404, mimetype="text/html")
        return response(environ, start_response)

    def page(self, path: str, body: str) -> str:
        self.pages[path] = f"<!doctype html><html><head><title>Shop</title>{HOSTILE_STYLE}</head><body>" \
                           f"<h1>Green tea</h1>{LISTEN}{body}</body></html>"
        return self.origin + path


@pytest.fixture
def shops():
    """Two shops: the store lists the first only."""
    made = [Shop(), Shop()]
    for shop in made:
        shop.thread.start()
    yield made
    for shop in made:
        shop.server.shutdown()
        shop.thread.join(timeout=5)
        shop.server.server_close()


def embed(live_server, merchant, **attributes) -> str:
    extra = "".join(f' data-{name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return (f'<p><script src="{live_server}/embed/v1/callback.js" data-merchant="{merchant}"{extra} async>'
            '</script></p>')


def warnings_of(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if message.type == "warning" else None)
    return seen


def events(page, kind: str) -> list[dict]:
    return page.evaluate("(kind) => window.__events.filter(e => e.data && e.data.type === kind)", kind)


@pytest.mark.browser
def test_a_shopper_asks_for_a_callback_from_a_shops_page(page, live_server, simulator, app, shops,
                                                         artifacts, database_url):
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    shop = shops[0]
    store = make_callable_merchant(name="Ming's Tea")
    set_embed_origins(store, [shop.origin], allow_http_localhost=True)
    database.session.commit()
    store_id = store.id
    url = shop.page("/tea", embed(live_server, store_id, order_ref="A-1234", lang="en"))

    page.goto(url)
    button = page.get_by_role("button", name="Call me back")
    expect(button).to_be_visible()
    # The shop's styles do not reach the button (shadow DOM): not green, not 40px.
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(0, 255, 0)"
    assert button.evaluate("b => getComputedStyle(b).fontSize") == "16px"
    button.click()

    dialog = page.get_by_role("dialog", name="Call me back")
    expect(dialog).to_be_visible()
    flow = page.frame_locator("iframe[title='Call me back']")
    expect(flow.get_by_role("heading", name="Which number should we call?")).to_be_visible()
    flow.get_by_label("Your phone number").fill("137 abc")
    flow.get_by_role("button", name="Send me a code").click()
    expect(flow.locator("#phone-error")).to_contain_text("may contain only digits")
    flow.get_by_label("Your phone number").fill("137 0013 7000")
    flow.get_by_role("button", name="Send me a code").click()

    expect(flow.get_by_role("heading", name="Enter the code")).to_be_visible()
    expect(flow.get_by_text("We sent a code by text message to 137 0013 7000.")).to_be_visible()
    code = simulator.state.last_code(SHOPPER)
    assert code
    flow.get_by_label("Code").fill(code)
    flow.get_by_role("button", name="Confirm").click()

    expect(flow.get_by_role("heading", name="When should Ming's Tea call you?")).to_be_visible()
    expect(flow.get_by_text("Times are in your time zone, Asia/Shanghai.")).to_be_visible()
    when = flow.get_by_label("When should we call?")
    expect(when).to_have_value("asap")
    when.select_option(index=3)  # a half hour, in the shopper's time
    chosen = when.input_value()
    page.screenshot(path=artifacts / f"embed-{backend}-1-when.png")
    flow.get_by_role("button", name="Call me back").click()

    expect(flow.locator("#status-text")).to_have_text(re.compile(r"^Scheduled for .+ \(Asia/Shanghai\)$"))
    page.screenshot(path=artifacts / f"embed-{backend}-2-scheduled.png")
    page.wait_for_function("() => window.__events.some(e => e.data.type === 'registry:callback.status')")
    requested = events(page, "registry:callback.requested")
    assert len(requested) == 1 and requested[0]["origin"] == live_server
    callback_id = requested[0]["data"]["id"]
    assert events(page, "registry:callback.status")[0]["data"] == {
        "type": "registry:callback.status", "id": callback_id, "status": "scheduled"}

    database.session.expire_all()
    request = database.session.get(CallbackRequest, callback_id)
    assert request.status == "scheduled" and request.merchant_id == store_id
    assert request.order_ref == "A-1234" and not request.asap
    assert as_utc(request.window_start) == datetime.fromisoformat(chosen)

    # Cancel inside the frame; the shop hears the new status.
    flow.get_by_role("button", name="Cancel this callback").click()
    expect(flow.locator("#status-text")).to_have_text("Canceled")
    page.wait_for_function("() => window.__events.some(e => e.data.status === 'canceled')")

    # Escape closes the dialog, the focus goes back to the button, the shop hears it.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    page.wait_for_function("() => window.__events.some(e => e.data.type === 'registry:closed')")
    closed = events(page, "registry:closed")
    assert closed[0]["origin"] == shop.origin

    # The close button too.
    button.click()
    expect(dialog).to_be_visible()
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


@pytest.mark.browser
def test_a_shop_not_on_the_list_cannot_frame_the_flow(page, live_server, app, shops):
    listed, stranger = shops
    store = make_callable_merchant()
    set_embed_origins(store, [listed.origin], allow_http_localhost=True)
    database.session.commit()
    flow_path = f"/embed/v1/merchants/{store.id}/callback"

    # Honest about its origin: the registry refuses to render the flow.
    page.goto(stranger.page("/honest", embed(live_server, store.id)))
    with page.expect_response(lambda r: flow_path in r.url) as answer:
        page.get_by_role("button", name="Call me back").click()
    assert answer.value.status == 403
    frame_locator = page.frame_locator("iframe")
    page.wait_for_timeout(500)
    assert frame_locator.locator("#step-phone").count() == 0

    # Lying about it (the listed shop's origin in the query): the registry renders the flow, but
    # its frame-ancestors keeps the browser from showing it in this page.
    lie = f'<iframe id="lie" src="{live_server}{flow_path}?origin={listed.origin}"></iframe>'
    with page.expect_response(lambda r: flow_path in r.url) as answer:
        page.goto(stranger.page("/liar", lie))
    assert answer.value.status == 200
    assert f"frame-ancestors {listed.origin};" in answer.value.headers["content-security-policy"]
    page.wait_for_timeout(500)
    assert page.frame_locator("#lie").locator("#step-phone").count() == 0
    child = [frame for frame in page.frames if frame != page.main_frame]
    assert child and all(not frame.url.startswith(live_server) or frame.locator("#step-phone").count() == 0
                         for frame in child)


@pytest.mark.browser
@pytest.mark.parametrize("case", ["unknown", "suspended", "markup"])
def test_a_bad_embed_renders_nothing_and_warns_once(page, live_server, app, shops, db, case):
    shop = shops[0]
    store = make_callable_merchant()
    set_embed_origins(store, [shop.origin], allow_http_localhost=True)
    if case == "suspended":
        store.status = "suspended"
    database.session.commit()
    merchant = {"unknown": str(store.id + 1000), "suspended": str(store.id),
                "markup": f'{store.id}&quot;&gt;&lt;img id=&quot;injected&quot; src=x&gt;'}[case]
    warnings = warnings_of(page)
    page.goto(shop.page("/bad", embed(live_server, merchant)))
    page.wait_for_timeout(1000)
    assert page.locator("[data-registry-callback]").count() == 0
    assert page.get_by_role("button").count() == 0
    assert page.locator("#injected").count() == 0
    ours = [text for text in warnings if text.startswith("[registry callback button]")]
    assert len(ours) == 1, warnings
