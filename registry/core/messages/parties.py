"""Refusals about the two parties: one-time codes, stores, their numbers and hours, shoppers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/verification/operations.py
    "invalid.channel": _l("The channel must be 'sms' or 'call'."),
    "invalid.channel_unreachable": _l("This number cannot receive a code by that channel."),
    "too_many_codes.resend": _l("A code was sent a moment ago; you can ask for another in "
                                "%(retry_after)s seconds."),
    "too_many_codes.number": _l("Too many codes were sent to this number; try again in "
                                "%(retry_after)s seconds."),
    "too_many_codes.ip": _l("Too many codes were requested from your network; try again in "
                            "%(retry_after)s seconds."),
    "too_many_codes.account": _l("Too many codes were requested by this account; try again in "
                                 "%(retry_after)s seconds."),
    "too_many_codes.provider": _l("Too many codes were sent to this number; try again in 10 minutes."),
    "too_many_codes.pending": _l("A code sent to this number for another purpose is still waiting "
                                 "to be used; try again in %(retry_after)s seconds."),
    "provider_unavailable.send": _l("The code could not be sent just now; please try again shortly."),
    "provider_unavailable.check": _l("The code could not be checked just now; please try again "
                                     "shortly."),
    "invalid_type.code": _l("The code must be text of 6 digits."),
    "invalid.code_format": _l("The code is the 6 digits we sent you."),
    "no_code": _l("No code has been sent to this number yet."),
    "no_code.used": _l("That code was already used; request a new one."),
    "too_many_checks": _l("Too many wrong codes; request a new code."),
    "code_expired": _l("This code has expired; request a new one."),
    "wrong_code": _l("That code is not right."),
    # registry/merchants/operations.py
    "invalid.store_name": _l("Enter the store's name."),
    "invalid.store_name_long": _l("The name must be at most %(limit)s characters."),
    "store_exists": _l("This account already has a store."),
    "not_found.store": _l("No such store."),
    "not_found.store_external_id": _l("No store of yours has that external id."),
    "required.merchant_reference": _l(
        "Name the store by 'merchant_id' or by 'merchant_external_id' (one of them)."),
    "not_found.number": _l("No such number."),
    "invalid.region": _l("The region is a two-letter country code such as CN."),
    "invalid.label": _l("The label is text of at most %(limit)s characters."),
    "duplicate_number": _l("This number is already on your store."),
    "too_many_numbers": _l("A store can have at most %(limit)s numbers."),
    "invalid.landline_sms": _l("This is a landline: it can get the code by a voice call, not SMS."),
    "number_suspended": _l("This number is suspended; contact support."),
    # registry/merchants/hours.py; `day` is a key (mon … sun), put into words by DAY_NAMES
    "invalid.hours_object": _l("Business hours must be an object with the days mon to sun."),
    "invalid.hours_unknown_day": _l("Unknown day %(value)s; use mon, tue, wed, thu, fri, sat, sun."),
    "invalid.hours_too_many": _l("%(day)s: give a list of at most %(limit)s [start, end] pairs."),
    "invalid.hours_pair": _l("%(day)s: each range is a [start, end] pair."),
    "invalid.hours_time": _l('%(day)s: times are "HH:MM" from 00:00 to 24:00.'),
    "invalid.hours_order": _l("%(day)s: %(start)s to %(end)s ends before it starts."),
    "invalid.hours_overlap": _l("%(day)s: the range starting %(start)s overlaps another."),
    "invalid.timezone": _l("Choose a time zone such as Asia/Shanghai."),
    # registry/shoppers
    "shopper_blocked": _l("This number may not request callbacks."),
}
