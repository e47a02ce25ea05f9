"""Why a call waits: `windows.waiting` names the side whose hours hold the call back
(the store's, the shopper's, or both), across zones and daylight-saving changes, and
`forms.waiting_text` puts it in the shopper's words, in English and Chinese."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from registry.callbacks.forms import waiting_text
from registry.callbacks.windows import allowed, first_moment, waiting

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {d: [["00:00", "24:00"]] for d in DAYS}
NINE_TO_SIX = {d: [["09:00", "18:00"]] for d in DAYS}
SHANGHAI = ["Asia/Shanghai"]


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def why(hours, merchant_zone, shopper_zones, now, call_hours="08:00-21:00"):
    """(when the asap call comes, why) as the form computes them at `now`."""
    intervals = allowed(hours, merchant_zone, shopper_zones, call_hours, now, now + timedelta(days=7))
    at = first_moment(intervals, now)
    return at, waiting(hours, merchant_zone, shopper_zones, call_hours, at, now)


def test_at_22_00_an_always_open_store_waits_for_the_shoppers_08_00():
    now = local("Asia/Shanghai", 2026, 11, 23, 22, 0)
    at, reason = why(ALWAYS, "Asia/Shanghai", SHANGHAI, now)
    assert at == local("Asia/Shanghai", 2026, 11, 24, 8, 0)
    assert reason.code == "outside_call_hours" and reason.at == at
    assert reason.outside_call_hours and not reason.store_closed


def test_at_22_00_a_store_opening_at_09_00_is_the_reason_not_the_shoppers_08_00():
    now = local("Asia/Shanghai", 2026, 11, 23, 22, 0)
    at, reason = why(NINE_TO_SIX, "Asia/Shanghai", SHANGHAI, now)
    assert at == local("Asia/Shanghai", 2026, 11, 24, 9, 0)
    assert reason.code == "store_closed" and reason.store_closed and not reason.outside_call_hours


def test_both_hold_the_call_when_the_store_opens_when_calling_hours_begin():
    now = local("Asia/Shanghai", 2026, 11, 23, 23, 30)
    eight = {d: [["08:00", "18:00"]] for d in DAYS}
    at, reason = why(eight, "Asia/Shanghai", SHANGHAI, now)
    assert at == local("Asia/Shanghai", 2026, 11, 24, 8, 0)
    assert reason.code == "store_closed_and_outside_call_hours"
    assert reason.store_closed and reason.outside_call_hours


def test_nothing_holds_a_call_that_can_come_now_or_a_time_inside_both_sides_hours():
    now = local("Asia/Shanghai", 2026, 11, 23, 10, 0)
    at, reason = why(NINE_TO_SIX, "Asia/Shanghai", SHANGHAI, now)
    assert at == now and reason is None
    # A slot the shopper chose later that day, or a retry's pause: not a matter of hours.
    later = local("Asia/Shanghai", 2026, 11, 23, 15, 0)
    assert waiting(NINE_TO_SIX, "Asia/Shanghai", SHANGHAI, "08:00-21:00", later, now) is None
    # Less than a minute away is "right away".
    soon = now + timedelta(seconds=30)
    assert waiting(ALWAYS, "UTC", ["Pacific/Kiritimati"], "00:00-24:00", soon, now) is None


@pytest.mark.parametrize(("day", "utc_hour"), [(17, 8), (24, 9)])  # BST, then GMT (from 25 Oct)
def test_a_london_store_follows_its_daylight_saving_in_the_shoppers_time(day, utc_hour):
    """At 22:00 in Shanghai the London store is open but the shopper may not be called; next
    morning the shopper may, but the store is closed until 09:00 London, which is 16:00 in
    Shanghai under British summer time and 17:00 after it ends."""
    now = local("Asia/Shanghai", 2026, 10, day, 22, 0)
    at, reason = why(NINE_TO_SIX, "Europe/London", SHANGHAI, now)
    assert at == datetime(2026, 10, day + 1, utc_hour, 0, tzinfo=UTC)
    assert at.astimezone(ZoneInfo("Europe/London")).hour == 9
    assert reason.code == "store_closed"


def test_the_shoppers_08_00_follows_their_own_daylight_saving():
    # 22:00 on Sat 31 Oct in New York (EDT); 08:00 next morning is EST, after the change.
    now = local("America/New_York", 2026, 10, 31, 22, 0)
    at, reason = why(ALWAYS, "UTC", ["America/New_York"], now)
    assert at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert reason.code == "outside_call_hours"


def test_a_number_in_several_zones_waits_for_the_latest_morning():
    # 10:00 UTC: 22:00 in Anadyr (too late there), 12:00 in Kaliningrad.
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    at, reason = why(ALWAYS, "UTC", ["Asia/Anadyr", "Europe/Kaliningrad"], now)
    assert at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 08:00 in Kaliningrad
    assert reason.code == "outside_call_hours"


# -- in words ----------------------------------------------------------------------

CASES = [
    (ALWAYS, 22, "We will call you at 08:00 tomorrow (your time): we do not call after 21:00 your time.",
     "我们将在明天 08:00（您的时间）给您回电：您当地时间 21:00 以后我们不打电话。"),
    (ALWAYS, 6, "We will call you at 08:00 today (your time): we do not call before 08:00 your time.",
     "我们将在今天 08:00（您的时间）给您回电：您当地时间 08:00 以前我们不打电话。"),
    (NINE_TO_SIX, 22, "We will call you at 09:00 tomorrow (your time): the store opens at 09:00 (your time).",
     "我们将在明天 09:00（您的时间）给您回电：店铺 09:00（您的时间）开门。"),
    ({d: [["08:00", "18:00"]] for d in DAYS}, 22,
     "We will call you at 08:00 tomorrow (your time): the store opens at 08:00 (your time), "
     "and we do not call after 21:00 your time.",
     "我们将在明天 08:00（您的时间）给您回电：店铺 08:00（您的时间）开门，"
     "并且您当地时间 21:00 以后我们不打电话。"),
]


@pytest.mark.parametrize(("hours", "hour", "english", "chinese"), CASES)
def test_the_reason_in_english_and_chinese(app, hours, hour, english, chinese):
    now = local("Asia/Shanghai", 2026, 11, 23, hour, 0)
    _, reason = why(hours, "Asia/Shanghai", SHANGHAI, now)
    for language, expected in (("en", english), ("zh", chinese)):
        with app.test_request_context(), force_locale(language):
            assert waiting_text(reason, "Asia/Shanghai", "08:00-21:00", now) == expected


def test_a_reason_more_than_a_day_away_names_the_day(app):
    now = local("Asia/Shanghai", 2026, 11, 20, 22, 0)  # a Friday; the store opens on Monday
    weekdays = {d: ([["09:00", "18:00"]] if d not in ("sat", "sun") else []) for d in DAYS}
    _, reason = why(weekdays, "Asia/Shanghai", SHANGHAI, now)
    with app.test_request_context(), force_locale("en"):
        assert waiting_text(reason, "Asia/Shanghai", "08:00-21:00", now) == (
            "We will call you at 09:00 on Mon 23 Nov (your time): the store opens at 09:00 (your time).")
    with app.test_request_context(), force_locale("zh"):
        assert waiting_text(reason, "Asia/Shanghai", "08:00-21:00", now).startswith(
            "我们将在11月23日 周一 09:00（您的时间）给您回电")
    assert waiting_text(None, "Asia/Shanghai", "08:00-21:00", now) == ""
