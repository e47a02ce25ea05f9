"""Every page a visitor of each kind can reach: the security headers, no inline script or style
(the Content-Security-Policy allows neither), and the product's own 404/405/500 pages."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from registry.accounts.models import User
from registry.core.security import CONTENT_SECURITY_POLICY
from tests.factories import (
    PASSWORD,
    make_call_record,
    make_callable_merchant,
    make_number,
    make_shopper,
    make_user,
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
NOT_FOLLOWED = ("/logout", "/static/", "/lang/")


@pytest.fixture
def app_overrides():
    return {"SHOPPER_CALL_HOURS": "00:00-24:00"}


class PageScan(HTMLParser):
    """Links on the page, and what a CSP without `unsafe-inline` would block."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.blocked: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "a" and values.get("href", "").startswith("/"):
            self.links.append(values["href"])
        if tag == "script" and not values.get("src"):
            self._in_inline_script = True
            self.blocked.append("inline <script>")
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.blocked.append("<style> element")


def crawl(client, starts: list[str], limit: int = 120) -> dict[str, int]:
    """Visit every same-site page reachable from `starts`; assert each one's headers and markup."""
    seen: dict[str, int] = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        key = urlsplit(path).path + ("?" + urlsplit(path).query if "page" in path else "")
        if key in seen or path.startswith(NOT_FOLLOWED):
            continue
        response = client.get(path)
        seen[key] = response.status_code
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        assert response.status_code < 500, path
        if response.mimetype != "text/html":
            continue
        scan = PageScan()
        scan.feed(response.text)
        assert not scan.blocked, (path, scan.blocked)
        queue.extend(link for link in scan.links if not link.startswith(NOT_FOLLOWED))
    return seen


def test_every_reachable_page_has_the_headers_and_no_inline_script(app, client, db):
    store = make_callable_merchant()
    owner_email = db.session.get(User, store.owner_id).email
    staff = make_user("staff")
    shopper = make_shopper()
    make_call_record(store)
    make_number(store, "+8613900139000")  # unverified: its page has the resend countdown
    # As a shopper: ask for a callback (its status page has the live polling script).
    with client.session_transaction() as session:
        session["shopper_id"] = shopper.id
    asked = client.post(f"/stores/{store.id}/callback", data={"when": "asap"})
    assert asked.status_code == 302
    shopper_pages = crawl(client, ["/", asked.headers["Location"]])
    assert any(path.startswith("/callbacks/") for path in shopper_pages)
    client._cookies.clear()  # a new visitor

    anonymous = crawl(client, ["/", "/login", "/signup", "/stores", "/phone"])
    assert {"/", "/login", "/signup", "/stores"} <= set(anonymous)

    assert client.post("/login", data={"email": owner_email, "password": PASSWORD}).status_code == 302
    merchant = crawl(client, ["/merchant/", "/merchant/numbers/new", "/merchant/store"])
    assert any(re.match(r"/merchant/numbers/\d+", path) for path in merchant)  # the verify page
    client.post("/logout")

    assert client.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    staff_pages = crawl(client, ["/staff/"])
    assert any(re.match(r"/staff/calls/\d+", path) for path in staff_pages)
    assert len(shopper_pages) + len(anonymous) + len(merchant) + len(staff_pages) > 15


def test_json_answers_carry_the_headers_too(client):
    response = client.get("/api/v1/merchants/999")
    assert response.status_code == 404 and response.is_json
    assert all(response.headers.get(name) == value for name, value in HEADERS.items())


@pytest.mark.parametrize(("language", "heading", "words"), [
    ("en", "Page not found", "We could not find that page"),
    ("zh", "找不到页面", "找不到该页面"),
])
def test_a_page_that_does_not_exist_is_the_products_404(client, language, heading, words):
    staff = make_user("staff")
    client.post("/login", data={"email": staff.email, "password": PASSWORD})
    response = client.get("/staff/calls/abc", headers={"Accept-Language": language})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert heading in response.text and words in response.text
    assert 'class="site-header"' in response.text and 'href="/"' in response.text
    assert "Werkzeug" not in response.text and "The requested URL" not in response.text


@pytest.mark.parametrize(("language", "words"), [("en", "cannot be used that way"),
                                                 ("zh", "不能以这种方式使用此页面")])
def test_a_wrong_method_is_the_products_405(client, language, words):
    response = client.delete("/login", headers={"Accept-Language": language})
    assert response.status_code == 405 and words in response.text
    assert 'class="site-header"' in response.text


@pytest.mark.parametrize(("language", "words"), [("en", "Something went wrong on our side"),
                                                 ("zh", "我们这边出了问题")])
def test_an_unexpected_error_is_the_products_500(app, client, language, words):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", "broken", broken)
    app.add_url_rule("/api/v1/broken", "api_broken", broken)
    response = client.get("/broken", headers={"Accept-Language": language})
    assert response.status_code == 500 and words in response.text
    assert 'class="site-header"' in response.text and 'href="/"' in response.text
    api = client.get("/api/v1/broken")
    assert api.status_code == 500 and api.json["error"]["code"] == "internal_error"


def test_the_api_keeps_answering_json_for_unknown_paths_and_methods(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert missing.json["error"]["reason"] == "not_found.route"
    wrong = client.delete("/api/v1/accounts", headers={"Accept-Language": "zh-CN"})
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert wrong.json["error"]["message"] == "此地址不接受该请求方法。"
