"""What the staff console asks and says: its forms and the call log's words in the staff's language.

The search form is a plain GET form whose field names are the API's filter
names, so `registry.complaints.search.parse_search` checks it exactly as it
checks `GET /api/v1/call-records`; the other forms carry the CSRF token and
free text the operations check (reasons, resolutions).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from wtforms import Form, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice

from registry.audit.operations import MIN_REASON
from registry.core.forms import BaseForm
from registry.core.timeutil import as_utc
from registry.integrations.models import SCOPES

FILTERS = ("merchant_id", "phone", "proxy_number", "call_sid", "order_ref", "kind", "status", "since",
           "until", "has_complaint")
PER_PAGE = 25

CALL_STATUSES = {
    "queued": _l("queued"), "initiated": _l("initiated"), "ringing": _l("ringing"),
    "in-progress": _l("in progress"), "completed": _l("completed"), "busy": _l("busy"),
    "no-answer": _l("no answer"), "failed": _l("failed"), "canceled": _l("canceled"),
}
CALL_KINDS = {
    "callback_merchant_leg": _l("callback, store leg"), "callback_shopper_leg": _l("callback, shopper leg"),
    "relay": _l("call through a platform number"), "intercepted": _l("intercepted (no binding)"),
}
ACTION_LABELS = {
    "none": _l("No action"), "warn": _l("Warn the store"),
    "suspend_number": _l("Suspend the store's number"), "block_shopper": _l("Block the shopper"),
}
COMPLAINT_STATUS_LABELS = {"open": _l("open"), "assigned": _l("assigned"), "resolved": _l("resolved")}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _any(labels: dict) -> list[SelectChoice]:
    return _choices({"": _l("Any"), **labels})


class SearchForm(Form):
    """The call-log filters (GET, no CSRF token: a search changes nothing but the audit log)."""

    merchant_id = StringField(_l("Store ID"), render_kw={"inputmode": "numeric", "maxlength": 12})
    phone = StringField(_l("Phone number"), description=_l("The shopper's or the store's, in any format."),
                        render_kw={"inputmode": "tel", "maxlength": 64, "autocomplete": "off"})
    proxy_number = StringField(_l("Platform number"), render_kw={"inputmode": "tel", "maxlength": 64})
    call_sid = StringField(_l("Call SID"), render_kw={"maxlength": 64, "autocomplete": "off"})
    order_ref = StringField(_l("Order number"), render_kw={"maxlength": 64, "autocomplete": "off"})
    since = StringField(_l("From (UTC)"), render_kw={"type": "date"})
    until = StringField(_l("To (UTC, inclusive)"), render_kw={"type": "date"})
    status = SelectField(_l("Status"), choices=_any(CALL_STATUSES), validate_choice=False)
    kind = SelectField(_l("Kind"), choices=_any(CALL_KINDS), validate_choice=False)
    has_complaint = SelectField(_l("Complaint"), validate_choice=False, choices=_any(
        {"true": _l("With a complaint"), "false": _l("Without a complaint")}))


def search_args(args) -> dict[str, str]:
    """The filters as `parse_search` takes them; a plain "to" date includes that whole day."""
    out = {name: args.get(name, "").strip() for name in FILTERS if args.get(name, "").strip()}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", out.get("until", "")):
        out["until"] += "T23:59:59.999999+00:00"
    if args.get("cursor"):
        out["cursor"] = args["cursor"]
    out["per_page"] = str(PER_PAGE)
    return out


def filter_query(args, **extra) -> str:
    """The current filters (as typed) as a query string, for paging and export links."""
    kept = {name: args.get(name) for name in FILTERS if args.get(name)}
    kept.update({k: v for k, v in extra.items() if v})
    return urlencode(kept)


class RevealForm(BaseForm):
    """Which side's real number to show, and why."""
    side = RadioField(_l("Number"), default="from", validate_choice=False,
                      choices=_choices({"from": _l("Caller (from)"), "to": _l("Called (to)")}))
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 500, "minlength": MIN_REASON},
                           description=_l("At least 10 characters. Kept in the audit log with your name."))


class AssignForm(BaseForm):
    """Only the CSRF token."""


class VerifyChainForm(BaseForm):
    """Only the CSRF token: the dashboard's "Verify now" button."""


class ResolveForm(BaseForm):
    """The action taken against the store or shopper, and what staff found."""
    action = RadioField(_l("Action"), default="none", validate_choice=False,
                        choices=_choices(ACTION_LABELS))
    resolution = TextAreaField(_l("Resolution"), render_kw={"rows": 3, "maxlength": 500},
                               description=_l("What you found and why you chose this action (10 characters "
                                              "or more). Kept in the audit log."))


SCOPE_LABELS = {  # in SCOPES's order
    "bindings": _l("bindings: pair a shopper with a store for an order"),
    "callbacks": _l("callbacks: ask for a callback on a shopper's behalf"),
    "merchants": _l("merchants: import and update stores"),
    "webhooks": _l("webhooks: receive the platform's event notifications"),
}
assert set(SCOPE_LABELS) == set(SCOPES)  # a new scope needs its words here


class ClientForm(BaseForm):
    """A new integration client: its name and what its key may do (checked by the operation)."""
    name = StringField(_l("Name"), render_kw={"maxlength": 100, "autocomplete": "off"},
                       description=_l("The marketplace back end this key is for, e.g. “Shop A production”."))
    scopes = SelectMultipleField(_l("Scopes"), choices=_choices(SCOPE_LABELS),
                                 validate_choice=False, widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())


class RevokeClientForm(BaseForm):
    """Only the CSRF token: the "Revoke" button of one client."""


def utc_time(value: datetime | None) -> str:
    """`2026-11-23 02:15:07 UTC`; staff compare times across zones, so the console speaks UTC."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


POOL_KINDS = {"local": _l("Local"), "mobile": _l("Mobile")}


class PoolSearchForm(Form):
    """Numbers Twilio would sell (GET, no CSRF token: a search buys nothing)."""
    country = StringField(_l("Country"), description=_l("Two letters, e.g. US, GB, CN."),
                          render_kw={"maxlength": 2, "autocomplete": "off", "size": 4})
    type = SelectField(_l("Type"), choices=_choices(POOL_KINDS), default="local", validate_choice=False)
    area_code = StringField(_l("Area code"), render_kw={"inputmode": "numeric", "maxlength": 5})
    contains = StringField(_l("Contains"),
                           description=_l("Digits the number contains; * stands for any digit."),
                           render_kw={"maxlength": 16, "autocomplete": "off"})


class BuyNumberForm(BaseForm):
    """The "Buy" button of one search result: the number, and the CSRF token."""
    phone_number = StringField(_l("Number"))


class PoolActionForm(BaseForm):
    """Only the CSRF token: a number's "Drain" or "Release" button."""
