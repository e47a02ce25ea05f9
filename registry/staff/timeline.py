"""What staff read to reconstruct a call: a leg with its events, a callback request's whole timeline.

Everything here is read-only and shows masked numbers only; revealing a
number is `registry.audit.operations.reveal_call_number`, audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import or_, select

from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.calllog.models import CallEvent, CallRecord
from registry.complaints.models import Complaint
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.phones import format_international
from registry.core.timeutil import as_utc
from registry.masking.models import Binding
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.staff import events
from registry.staff.forms import utc_time


def events_of(call_sids) -> list[CallEvent]:
    """The chained events of these calls, in log order."""
    sids = sorted({sid for sid in call_sids if sid})
    if not sids:
        return []
    return list(db.session.scalars(select(CallEvent).where(CallEvent.call_sid.in_(sids))
                                   .order_by(CallEvent.id)))


@dataclass(frozen=True)
class EventLine:
    """A chained event as the call page lists it: a sentence, and the raw data behind a toggle."""
    event: CallEvent
    sentence: str
    technical: str


def complaints_about(record: CallRecord | None = None, request_id: int | None = None) -> list[Complaint]:
    """Complaints naming this call, or the callback request it belongs to."""
    conditions = []
    if record is not None:
        conditions.append(Complaint.call_record_id == record.id)
        request_id = request_id or record.callback_request_id
    if request_id is not None:
        conditions.append(Complaint.callback_request_id == request_id)
    return list(db.session.scalars(select(Complaint).where(or_(*conditions)).order_by(Complaint.id)))


@dataclass(frozen=True)
class CallPage:
    """One leg as the call page shows it."""
    record: CallRecord
    events: list[EventLine]
    merchant: Merchant | None
    complaints: list[Complaint]


def call_page(record_id: int) -> CallPage:
    """A leg with its events, its store and the complaints about it (404 if there is none)."""
    record = get_or_refuse(CallRecord, record_id, "not_found.call_record")
    merchant = db.session.get(Merchant, record.merchant_id) if record.merchant_id else None
    lines = [EventLine(e, events.describe(e, record), events.technical(e))
             for e in events_of([record.call_sid])]
    return CallPage(record, lines, merchant, complaints_about(record))


@dataclass(frozen=True)
class Entry:
    """One line of a callback request's timeline."""
    at: datetime
    what: str  # a sentence in the reader's language
    source: str  # app, twilio, or shopper for the request itself
    detail: str = ""  # more words for people (a platform number, an expiry)
    technical: str = ""  # the stored data, behind the "Technical details" toggle
    call_sid: str | None = None
    record_id: int | None = None


@dataclass
class RequestTimeline:
    """A callback request with everything that happened to it."""
    request: CallbackRequest
    merchant: Merchant | None
    shopper: Shopper | None
    legs: list[CallRecord]
    bindings: list[Binding]
    complaints: list[Complaint]
    entries: list[Entry] = field(default_factory=list)


def _attempt_entries(attempt: CallbackAttempt) -> list[Entry]:
    n = attempt.seq
    out = [Entry(attempt.created_at, gettext("Attempt %(n)s started", n=n), "app",
                 gettext("platform number %(number)s", number=format_international(attempt.proxy_number)))]
    if attempt.placed_at:
        sid = attempt.merchant_call_sid
        out.append(Entry(attempt.placed_at, gettext("Attempt %(n)s placed with Twilio", n=n), "app",
                         technical=f"call_sid={sid}" if sid else "", call_sid=sid))
    if attempt.ended_at:
        out.append(Entry(attempt.ended_at, gettext("Attempt %(n)s ended: %(outcome)s", n=n,
                                                   outcome=events.attempt_outcome(attempt.outcome)), "app",
                         technical=f"outcome={attempt.outcome}" if attempt.outcome else ""))
    return out


def _binding_entries(binding: Binding) -> list[Entry]:
    number = format_international(binding.proxy_number.e164) if binding.proxy_number else ""
    out = [Entry(binding.created_at, gettext("Binding %(id)s created", id=binding.id), "app",
                 gettext("platform number %(number)s, expires %(when)s", number=number,
                         when=utc_time(binding.expires_at)))]
    if binding.ended_at:
        out.append(Entry(binding.ended_at, gettext("Binding %(id)s ended", id=binding.id), "app",
                         events.binding_end_reason(binding.end_reason),
                         technical=f"end_reason={binding.end_reason}" if binding.end_reason else ""))
    return out


def request_timeline(request_id: int) -> RequestTimeline:
    """A callback request, every attempt, leg, status event and binding, in time order."""
    request = get_or_refuse(CallbackRequest, request_id, "not_found.callback")
    sids = {s for a in request.attempts for s in (a.merchant_call_sid, a.shopper_call_sid) if s}
    legs = list(db.session.scalars(select(CallRecord).where(or_(
        CallRecord.callback_request_id == request.id, CallRecord.call_sid.in_(sorted(sids))))
        .order_by(CallRecord.id)))
    binding_ids = {request.binding_id, *(leg.binding_id for leg in legs)} - {None}
    bindings = list(db.session.scalars(select(Binding).where(Binding.id.in_(sorted(binding_ids)))
                                       .order_by(Binding.id))) if binding_ids else []
    timeline = RequestTimeline(
        request, db.session.get(Merchant, request.merchant_id), db.session.get(Shopper, request.shopper_id),
        legs, bindings, complaints_about(request_id=request.id))
    when = gettext("as soon as possible") if request.asap else gettext(
        "between %(start)s and %(end)s", start=utc_time(request.window_start),
        end=utc_time(request.window_end))
    entries = [Entry(request.created_at, gettext("Callback requested"), "shopper", when)]
    for attempt in request.attempts:
        entries += _attempt_entries(attempt)
    for binding in bindings:
        entries += _binding_entries(binding)
    by_sid = {leg.call_sid: leg for leg in legs}
    for event in events_of(sids | set(by_sid)):
        leg = by_sid.get(event.call_sid)
        entries.append(Entry(event.recorded_at, events.describe(event, leg), event.source,
                             technical=events.technical(event), call_sid=event.call_sid,
                             record_id=leg.id if leg else None))
    if request.ended_at:
        entries.append(Entry(request.ended_at, gettext(
            "Request ended: %(status)s", status=events.request_status_word(request.status)), "app",
            events.request_reason(request.reason),
            technical=f"status={request.status}" + (f" reason={request.reason}" if request.reason else "")))
    timeline.entries = sorted(entries, key=lambda e: as_utc(e.at))
    return timeline
