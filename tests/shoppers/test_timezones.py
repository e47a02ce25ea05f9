"""A shopper's zone comes from their number and is shown as a person reads it."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from registry.shoppers.timezones import display_zone, zones_for_number


def test_a_uk_mobile_is_on_london_time_not_guernsey():
    # +44 7… also covers Guernsey, Jersey and the Isle of Man, all on the same clock.
    assert display_zone("+447400123456") == "Europe/London"
    assert set(zones_for_number("+447400123456")) >= {"Europe/London", "Europe/Guernsey"}


def test_a_chinese_mobile_is_on_shanghai_time():
    assert display_zone("+8613800138000") == "Asia/Shanghai"


def test_a_number_spanning_zones_shows_the_earliest_closing_one():
    zones = zones_for_number("+79161234567")  # a Russian mobile: any zone of Russia
    now = datetime.now(UTC)
    offsets = [now.astimezone(ZoneInfo(z)).utcoffset() for z in zones]
    assert offsets == sorted(offsets, reverse=True)
    assert display_zone("+79161234567") == zones[0]
