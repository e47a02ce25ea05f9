"""The call log through the API: who may search, filters, paging, reveal, audit."""

import base64

import pytest

from registry.audit.models import StaffAudit
from tests.factories import (
    bearer,
    make_call_record,
    make_merchant,
    make_shopper,
    make_shopper_token,
    make_token,
    make_user,
)

SHOPPER, MERCHANT, OTHER = "+8613700137000", "+8613800138000", "+8613600136000"


@pytest.fixture
def staff():
    return bearer(make_token(make_user("staff")))


@pytest.fixture
def stores(db):
    from registry.accounts.models import User

    first, second = make_merchant(name="First"), make_merchant(name="Second")
    first_owner = bearer(make_token(db.session.get(User, first.owner_id)))
    return first, second, first_owner


def ids(response):
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_staff_search_by_phone_in_any_format(client, staff, stores):
    first, second, _ = stores
    mine = make_call_record(first, from_number=SHOPPER)
    make_call_record(second, from_number=OTHER)
    for typed in ("+86 137 0013 7000", "13700137000", "137-0013-7000", "＋８６１３７００１３７０００"):
        assert ids(client.get("/api/v1/call-records", query_string={"phone": typed}, headers=staff)) == \
            [mine.id]


def test_filters_combine(client, staff, stores):
    first, second, _ = stores
    a = make_call_record(first, status="completed")
    b = make_call_record(first, status="busy", kind="intercepted")
    make_call_record(second, status="busy")
    assert ids(client.get("/api/v1/call-records", query_string={"merchant_id": first.id}, headers=staff)) \
        == [b.id, a.id]
    assert ids(client.get("/api/v1/call-records", query_string={"merchant_id": first.id, "status": "busy"},
                          headers=staff)) == [b.id]
    assert ids(client.get("/api/v1/call-records", query_string={"kind": "intercepted"}, headers=staff)) \
        == [b.id]
    assert ids(client.get("/api/v1/call-records", query_string={"call_sid": a.call_sid}, headers=staff)) \
        == [a.id]
    assert ids(client.get("/api/v1/call-records", query_string={"since": "2000-01-01T00:00:00+00:00",
                                                                "until": "2099-01-01"}, headers=staff))


def test_paging_with_a_capped_page_size(client, staff, stores, app):
    first, _, _ = stores
    made = [make_call_record(first).id for _ in range(5)]
    page = client.get("/api/v1/call-records", query_string={"per_page": 2}, headers=staff).json
    assert [i["id"] for i in page["items"]] == made[::-1][:2] and page["next"]
    rest = client.get("/api/v1/call-records", query_string={"per_page": 2, "cursor": page["next"]},
                      headers=staff).json
    assert [i["id"] for i in rest["items"]] == made[::-1][2:4]
    huge = client.get("/api/v1/call-records", query_string={"per_page": 1_000_000}, headers=staff)
    assert huge.status_code == 200 and len(huge.json["items"]) == 5  # capped at API_MAX_PER_PAGE, not refused


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "1-800-FLOWERS"}, "phone"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"since": "2026-02-01T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"}, "until"),
        ({"until": "9999-01-01T00:00:00+00:00"}, "until"),
        ({"merchant_id": "abc"}, "merchant_id"),
        ({"status": "exploded"}, "status"),
        ({"kind": "any"}, "kind"),
        ({"has_complaint": "maybe"}, "has_complaint"),
        ({"per_page": "-1"}, "per_page"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, staff, query, field):
    response = client.get("/api/v1/call-records", query_string=query, headers=staff)
    assert response.status_code == 422 and response.json["error"]["field"] == field


def test_merchants_see_only_their_own_calls(client, stores):
    first, second, first_owner = stores
    mine = make_call_record(first)
    theirs = make_call_record(second)
    assert ids(client.get("/api/v1/call-records", headers=first_owner)) == [mine.id]
    assert ids(client.get("/api/v1/call-records", query_string={"merchant_id": second.id},
                          headers=first_owner)) == []
    assert client.get(f"/api/v1/call-records/{theirs.id}", headers=first_owner).status_code == 404
    assert client.get(f"/api/v1/call-records/{mine.id}", headers=first_owner).status_code == 200


def test_merchants_cannot_guess_a_masked_number_through_the_phone_filter(client, stores):
    # The masked number hides three digits: an exact-match filter would reveal them in 1,000 tries.
    first, _, first_owner = stores
    make_call_record(first)  # its shopper leg is SHOPPER
    for typed in (SHOPPER, "+8613700137001"):
        response = client.get("/api/v1/call-records", query_string={"phone": typed}, headers=first_owner)
        assert response.status_code == 403
        assert (response.json["error"]["reason"], response.json["error"]["field"]) == \
            ("forbidden.phone_filter", "phone")


def test_shoppers_and_strangers_are_refused(client, stores):
    shopper = bearer(make_shopper_token(make_shopper()))
    assert client.get("/api/v1/call-records", headers=shopper).status_code == 403
    assert client.get("/api/v1/call-records").status_code == 401
    merchant_without_store = bearer(make_token(make_user()))
    assert client.get("/api/v1/call-records", headers=merchant_without_store).status_code == 403


def test_detail_has_events_and_masked_numbers_only(client, staff, stores, db):
    from registry.calllog.operations import log_event

    first, _, _ = stores
    record = make_call_record(first, from_number=SHOPPER)
    log_event("status", {"status": "completed"}, call_sid=record.call_sid, source="twilio")
    db.session.commit()
    detail = client.get(f"/api/v1/call-records/{record.id}", headers=staff).json
    assert detail["from"] == "+86 137****7000" and [e["kind"] for e in detail["events"]] == ["status"]
    assert "13700137000" not in str(detail)


def test_reveal_needs_a_reason_and_is_audited(client, staff, stores, db):
    first, _, first_owner = stores
    record = make_call_record(first, from_number=SHOPPER)
    refused = client.post(f"/api/v1/call-records/{record.id}/reveal", json={"side": "from"}, headers=staff)
    assert refused.status_code == 422 and refused.json["error"]["field"] == "reason"
    revealed = client.post(f"/api/v1/call-records/{record.id}/reveal",
                           json={"side": "from", "reason": "complaint 12: harassment claim"}, headers=staff)
    assert revealed.json == {"number": SHOPPER}
    assert client.post(f"/api/v1/call-records/{record.id}/reveal", json={"side": "from", "reason": "x" * 20},
                       headers=first_owner).status_code == 403
    actions = [(a.action, a.reason) for a in db.session.query(StaffAudit).order_by(StaffAudit.id)]
    assert actions == [("reveal", "complaint 12: harassment claim")]


def test_searches_and_views_are_audited_without_digits(client, staff, stores, db):
    first, _, _ = stores
    record = make_call_record(first)
    client.get("/api/v1/call-records", query_string={"phone": SHOPPER}, headers=staff)
    client.get(f"/api/v1/call-records/{record.id}", headers=staff)
    entries = db.session.query(StaffAudit).order_by(StaffAudit.id).all()
    assert [e.action for e in entries] == ["search", "view"]
    assert entries[0].detail == {"phone": "given"} and "13700137000" not in str(entries[0].detail)


def test_a_forged_cursor_is_422(client, staff):
    response = client.get("/api/v1/call-records", query_string={"cursor": "not-a-cursor"}, headers=staff)
    assert response.status_code == 422 and response.json["error"]["field"] == "cursor"
    huge = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|99999999999999999999").decode()
    response = client.get("/api/v1/call-records", query_string={"cursor": huge}, headers=staff)
    assert response.status_code == 422 and response.json["error"]["field"] == "cursor"
