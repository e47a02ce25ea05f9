"""Refusals about calls: callback requests, complaints, the call-log search, reveals, the proxy pool."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/callbacks/operations.py
    "invalid.when_shape": _l('\'when\' is "asap" or {"start": ..., "end": ...}.'),
    "invalid.when_not_text": _l("'when.%(part)s' must be an ISO 8601 time with an offset."),
    "invalid.when_not_iso": _l("'when.%(part)s' is not an ISO 8601 time."),
    "invalid.when_no_offset": _l("'when.%(part)s' needs a UTC offset, e.g. 2026-11-23T10:00:00+08:00."),
    "invalid.slot_order": _l("The slot must end after it starts."),
    "in_the_past": _l("That time has already passed."),
    "invalid.too_far_ahead": _l("Choose a time within the next 7 days."),
    "too_long.order_ref": _l("'order_ref' must be at most %(limit)s characters."),
    "too_long.note": _l("'note' must be at most %(limit)s characters."),
    "outside_hours": _l("That time is outside the store's business hours or your calling hours "
                        "(%(hours)s your time)."),
    "duplicate_request": _l("You already have an open callback request with this store."),
    "too_many_open_requests": _l("You can have at most %(limit)s open callback requests; cancel one "
                                 "or wait for it to finish."),
    "too_many_requests_today": _l("You have asked for too many callbacks today."),
    "callback_unavailable.store_suspended": _l("This store is suspended and cannot take callback "
                                               "requests."),
    "callback_unavailable.number_suspended": _l("This store's phone number is suspended."),
    "callback_unavailable.no_number": _l("This store has no verified phone number yet."),
    "callback_unavailable.no_hours": _l("This store has not set its business hours."),
    "not_found.callback": _l("No such callback request."),
    "call_in_progress": _l("The call is already under way."),
    # registry/complaints/operations.py
    "invalid.category": _l("Choose a category: %(values)s."),
    "invalid.complaint_text": _l("Say what happened."),
    "invalid.complaint_text_long": _l("The text must be at most %(limit)s characters."),
    "invalid.complaint_subject": _l("Say which call or callback request the complaint is about."),
    "invalid.call_without_store": _l("That call is not linked to a store."),
    "not_found.call": _l("No such call."),
    "not_found.complaint": _l("No such complaint."),
    "not_found.shopper": _l("No such shopper."),
    "resolved": _l("This complaint is already resolved."),
    "invalid.action": _l("Choose an action: %(values)s."),
    "invalid.no_shopper_to_block": _l("This complaint names no shopper to block."),
    # registry/complaints/search.py: the call-log filters, named by `name`
    "invalid.whole_number": _l("'%(name)s' must be a whole number of at least %(minimum)s."),
    "invalid.time_format": _l("'%(name)s' must be an ISO 8601 time with an offset."),
    "invalid.time_offset": _l("'%(name)s' needs a UTC offset, e.g. +08:00."),
    "invalid.time_range": _l("'%(name)s' must lie between 2000 and 2100."),
    "invalid.choice": _l("'%(name)s' must be one of: %(values)s."),
    "invalid.until_before_since": _l("'until' is before 'since'."),
    "invalid.has_complaint": _l("'has_complaint' is true or false."),
    "invalid.filter_too_long": _l("'%(name)s' is at most %(limit)s characters."),
    "invalid.cursor": _l("'cursor' is not one this API gave out."),
    # registry/audit and the staff console
    "invalid.reason_short": _l("Give a reason of at least %(minimum)s characters; it is kept in the "
                               "audit log."),
    "invalid.reason_long": _l("The reason must be at most %(limit)s characters."),
    "invalid.reveal_side": _l("Say which number to reveal: 'from' or 'to'."),
    "not_found.call_record": _l("No such call record."),
    "not_found.no_number": _l("That leg has no number to reveal."),
    "not_found.recordings_off": _l("Recordings are not stored on this server."),
    "not_found.recording": _l("This call has no stored recording."),
    # registry/calllog/api.py and serving.py: a recording's signed link, the recordings' store
    "forbidden.recording_link_forged": _l("This recording link is not valid."),
    "forbidden.recording_link_expired": _l("This recording link has expired."),
    "provider_unavailable.recording_storage": _l("The recordings' storage could not be reached just now; "
                                                 "please try again shortly."),
    # registry/masking/pool.py (the pool CLI); `problem` is the key of a phone refusal
    "invalid.pool_format": _l("%(number)s: give proxy numbers in E.164, e.g. +8613900000001."),
    "invalid.pool_number": _l("%(number)s: %(problem)s"),
    "invalid.pool_cap": _l("The cap must be at least 1."),
    "conflict.in_pool": _l("%(number)s is already in the pool."),
    "not_found.pool_number": _l("%(number)s is not in the pool."),
    # registry/masking/provisioning.py: the pool console and /api/v1/proxy-numbers
    "not_found.proxy_number": _l("No such proxy number."),
    "conflict.pool_released": _l("%(number)s is already released."),
    "conflict.pool_bindings_active": _l("%(number)s still carries %(count)s active binding(s): drain it, "
                                        "and release it once they have ended."),
    "conflict.number_unavailable": _l("%(number)s is no longer available at Twilio (someone else has "
                                      "bought it): search again."),
    "invalid.pool_country_format": _l("Give the country as two letters (ISO 3166), e.g. US."),
    "invalid.pool_country": _l("Twilio sells no numbers of that type in %(country)s."),
    "invalid.pool_area_code": _l("The area code is one to five digits."),
    "invalid.pool_contains": _l("'contains' is 1 to 16 digits or letters; * stands for any one digit."),
    "invalid.pool_purchase": _l("Twilio would not sell %(number)s: %(detail)s"),
    "provider_unavailable.numbers": _l("Twilio could not be reached just now; please try again shortly."),
}

# Where a page says it differently: the API's words name JSON fields and
# formats, a form offers a list or a date box instead.
PAGE_MESSAGES = {
    "invalid.when_not_text": _l("Choose a time from the list."),
    "invalid.when_not_iso": _l("Choose a time from the list."),
    "invalid.when_no_offset": _l("Choose a time from the list."),
    "invalid.slot_order": _l("Choose a time from the list."),
    "in_the_past": _l("That time has already passed; choose another."),
    "too_long.order_ref": _l("The order number must be at most %(limit)s characters."),
    "too_long.note": _l("The note must be at most %(limit)s characters."),
    "call_in_progress": _l("The call is already under way; it can no longer be canceled."),
    "invalid.category": _l("Choose what went wrong."),
    "invalid.complaint_text_long": _l("Please keep it under 2000 characters."),
    "invalid.action": _l("Choose an action."),
    "invalid.whole_number": _l("Enter a whole number."),
    "invalid.time_format": _l("Enter a date as YYYY-MM-DD."),
    "invalid.time_offset": _l("Enter a date as YYYY-MM-DD."),
    "invalid.time_range": _l("Enter a date between 2000 and 2100."),
    "invalid.choice": _l("Choose a value from the list."),
    "invalid.until_before_since": _l("The end date is before the start date."),
    "invalid.has_complaint": _l("Choose with or without a complaint."),
    "invalid.filter_too_long": _l("At most %(limit)s characters."),
    "invalid.reveal_side": _l("Choose which number to reveal."),
}
