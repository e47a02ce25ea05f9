"""The home page and the store directory: find a store by name, see which are verified."""

from registry.core.extensions import db
from tests.factories import make_merchant, make_number, make_user


def _store(name: str, verified: bool = False, status: str = "active"):
    merchant = make_merchant(make_user("merchant"), name)
    if verified:
        make_number(merchant, status="verified")
    merchant.status = status
    db.session.commit()
    return merchant


def test_home_page_leads_to_the_directory(app, client):
    page = client.get("/").text
    assert 'action="/stores"' in page and 'href="/stores"' in page


def test_search_finds_stores_by_part_of_their_name_in_any_case(app, client):
    with app.app_context():
        tea_id = _store("Ming's Tea House", verified=True).id
        _store("Noodle Bar")
    page = client.get("/stores", query_string={"q": "  tea  "}).text
    assert "Ming&#39;s Tea House" in page and "Noodle Bar" not in page
    assert f'href="/stores/{tea_id}"' in page
    assert "✓ Verified" in page


def test_unverified_stores_are_listed_without_the_badge_and_suspended_ones_not_at_all(app, client):
    with app.app_context():
        _store("Corner Shop")
        _store("Closed Shop", verified=True, status="suspended")
    page = client.get("/stores").text
    assert "Corner Shop" in page and "Not verified" in page and "✓ Verified" not in page
    assert "Closed Shop" not in page


def test_wildcards_in_the_query_are_plain_characters(app, client):
    with app.app_context():
        _store("100% Cotton")
        _store("Bookshop")
    page = client.get("/stores", query_string={"q": "%"}).text
    assert "100% Cotton" in page and "Bookshop" not in page
    assert "No store" in client.get("/stores", query_string={"q": "_"}).text


def test_pages_follow_one_another_without_gaps_or_repeats(app, client):
    with app.app_context():
        for i in range(45):
            _store(f"Store {i:02d}")
    seen, url = [], "/stores"
    while url:
        page = client.get(url).text
        seen += [line.split(">")[1].split("<")[0] for line in page.splitlines() if 'href="/stores/' in line]
        marker = 'rel="next" href="'
        url = page.split(marker)[1].split('"')[0].replace("&amp;", "&") if marker in page else None
    assert seen == [f"Store {i:02d}" for i in range(45)]


def test_odd_queries_and_cursors_answer_a_page_not_an_error(app, client):
    with app.app_context():
        _store("Tea House")
    assert client.get("/stores", query_string={"q": "茶" * 10_000}).status_code == 200
    assert client.get("/stores", query_string={"after": "not-a-cursor"}).status_code == 200
    assert "Tea House" in client.get("/stores", query_string={"after": "%%%"}).text


def test_forged_cursors_answer_a_page_not_a_database_error(app, client):
    """A cursor is base64 the visitor can forge: a NUL in its name or an id past any integer
    column must not reach the database (PostgreSQL refuses both: a 500)."""
    import base64

    with app.app_context():
        _store("Tea House")
    for forged in ("A\x00|1", "A|99999999999999999999999", "A|-99999999999999999999999"):
        cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        assert client.get("/stores", query_string={"after": cursor}).status_code == 200
