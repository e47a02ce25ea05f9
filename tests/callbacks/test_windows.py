"""Callback windows: business hours x shopper calling hours, across zones and DST."""

from datetime import UTC, datetime, timedelta

import pytest

from registry.callbacks.windows import allowed, first_moment, parse_call_hours, slots
from registry.merchants.hours import DEFAULT_BUSINESS_HOURS

SATURDAY = datetime(2026, 11, 21, 0, 15, tzinfo=UTC)


def window(hours, merchant_zone, shopper_zones, since=SATURDAY, days=7, call_hours="08:00-21:00"):
    return allowed(hours, merchant_zone, shopper_zones, call_hours, since, since + timedelta(days=days))


def test_weekday_hours_in_shanghai_start_monday_0900_local():
    intervals = window(DEFAULT_BUSINESS_HOURS, "Asia/Shanghai", ["Asia/Shanghai"])
    assert first_moment(intervals, SATURDAY) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert len(intervals) == 5  # Monday to Friday


def test_shopper_calling_hours_cut_the_merchants_day():
    late = {d: [["18:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    intervals = window(late, "Asia/Shanghai", ["Asia/Shanghai"])
    begin, end = intervals[0]
    assert (begin.hour, end.hour) == (10, 13)  # 18:00-21:00 Shanghai


def test_a_number_spanning_zones_is_called_only_when_allowed_in_all_of_them():
    open_all_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    intervals = window(open_all_day, "UTC", ["Asia/Anadyr", "Europe/Kaliningrad"])
    begin, end = intervals[0]
    # 08:00 Kaliningrad (UTC+2) to 21:00 Anadyr (UTC+12): 06:00-09:00 UTC.
    assert (begin.hour, end.hour) == (6, 9)


def test_merchant_hours_follow_daylight_saving():
    hours = {"sun": [["09:00", "10:00"]]}
    before = window(hours, "America/New_York", ["America/New_York"],
                    since=datetime(2026, 10, 24, tzinfo=UTC), days=2)
    after = window(hours, "America/New_York", ["America/New_York"],
                   since=datetime(2026, 11, 7, tzinfo=UTC), days=2)
    assert before[0][0].hour == 13 and after[0][0].hour == 14  # EDT then EST


def test_slots_are_half_hours_inside_the_window():
    intervals = window(DEFAULT_BUSINESS_HOURS, "Asia/Shanghai", ["Asia/Shanghai"])
    offered = slots(intervals, SATURDAY)
    assert offered[0] == (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), datetime(2026, 11, 23, 1, 30, tzinfo=UTC))
    assert len(offered) == 5 * 18
    assert all(end - start == timedelta(minutes=30) for start, end in offered)
    mid = slots(intervals, datetime(2026, 11, 23, 1, 10, tzinfo=UTC))
    assert mid[0][0] == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["8-21", "21:00-08:00", "25:00-26:00", ""])
def test_bad_calling_hours_are_refused(value):
    with pytest.raises(ValueError):
        parse_call_hours(value)
