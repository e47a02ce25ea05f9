"""Zone labels: the zone's city in the page's language and its UTC offset."""

from datetime import UTC, datetime

from registry.core.zones import utc_offset, zone_label

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def test_offsets_follow_daylight_saving():
    assert utc_offset("Europe/London", WINTER) == "UTC+00:00"
    assert utc_offset("Europe/London", SUMMER) == "UTC+01:00"
    assert utc_offset("America/New_York", WINTER) == "UTC-05:00"
    assert utc_offset("Asia/Kolkata", WINTER) == "UTC+05:30"


def test_label_outside_a_request_is_english():
    assert zone_label("Asia/Shanghai", WINTER) == "Shanghai, UTC+08:00"
    assert zone_label("America/New_York", SUMMER) == "New York, UTC-04:00"


def test_label_in_a_chinese_page(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert zone_label("Europe/London", WINTER) == "伦敦, UTC+00:00"
        assert zone_label("Asia/Shanghai", WINTER) == "上海, UTC+08:00"


def test_the_store_page_shows_the_zone_by_city(app, client):
    from tests.factories import make_merchant

    with app.app_context():
        merchant = make_merchant(timezone="Asia/Shanghai")
        page = client.get(f"/stores/{merchant.id}").get_data(as_text=True)
    assert "Shanghai, UTC+08:00" in page
    assert "Asia/Shanghai" not in page
