"""Searching the call log: filters parsed strictly, results paged by cursor."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, tuple_

from registry.callbacks.models import CallbackRequest
from registry.calllog.models import KINDS, STATUS_RANK, CallRecord
from registry.complaints.models import Complaint
from registry.core.errors import Forbidden, InvalidInput
from registry.core.extensions import db
from registry.core.phones import get_cipher, parse_phone
from registry.core.timeutil import as_utc
from registry.core.urls import LARGEST_ID

EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_FILTER_TEXT = 64
FILTERS = ("merchant_id", "phone", "proxy_number", "call_sid", "order_ref", "kind", "status", "since",
           "until", "has_complaint", "cursor", "per_page")


@dataclass(frozen=True)
class CallSearch:
    merchant_id: int | None = None
    # The number's lookup hash under every key DATA_KEY lists (one but during a key rotation).
    phone_hashes: tuple[str, ...] | None = None
    proxy_number: str | None = None
    call_sid: str | None = None
    order_ref: str | None = None
    kind: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    has_complaint: bool | None = None
    cursor: tuple[datetime, int] | None = None  # (created_at, id) of the last row shown
    per_page: int = 25

    def described(self) -> dict:
        """The filters for the audit log: the phone only as 'given', never its digits."""
        out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
               if v is not None and k not in ("phone_hashes", "cursor", "per_page")}
        if self.phone_hashes:
            out["phone"] = "given"
        return out


def _int(args: Mapping, name: str, minimum: int = 1) -> int | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    # ASCII digits only ("²".isdigit() is true, int() refuses it), and few enough for a 64-bit column.
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) < minimum:
        raise InvalidInput("invalid.whole_number", field=name, name=name, minimum=minimum)
    return int(raw)


def _time(args: Mapping, name: str) -> datetime | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw)[:40])
    except ValueError:
        raise InvalidInput("invalid.time_format", field=name, name=name) from None
    if moment.tzinfo is None:
        if len(str(raw)) == 10:  # a plain date: midnight UTC
            moment = moment.replace(tzinfo=UTC)
        else:
            raise InvalidInput("invalid.time_offset", field=name, name=name)
    if not EARLIEST <= moment <= LATEST:
        raise InvalidInput("invalid.time_range", field=name, name=name)
    return as_utc(moment)


def _choice(args: Mapping, name: str, allowed) -> str | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    if raw not in allowed:
        raise InvalidInput("invalid.choice", field=name, name=name, values=", ".join(allowed))
    return raw


def parse_search(args: Mapping, default_region: str, max_per_page: int) -> CallSearch:
    """Filters from query parameters; each bad one is refused by name."""
    phone = args.get("phone")
    phone_hashes = None
    if phone not in (None, ""):
        phone_hashes = tuple(get_cipher().lookup_hashes(
            parse_phone(phone, default_region, field="phone").e164))
    proxy = args.get("proxy_number")
    if proxy not in (None, ""):
        proxy = parse_phone(proxy, default_region, field="proxy_number").e164
    since, until = _time(args, "since"), _time(args, "until")
    if since and until and until < since:
        raise InvalidInput("invalid.until_before_since", field="until")
    complaint = args.get("has_complaint")
    if complaint not in (None, "", "true", "false", "1", "0"):
        raise InvalidInput("invalid.has_complaint", field="has_complaint")
    text = {name: (args.get(name) or None) for name in ("call_sid", "order_ref")}
    for name, value in text.items():
        if value is not None and len(value) > MAX_FILTER_TEXT:
            raise InvalidInput("invalid.filter_too_long", field=name, name=name, limit=MAX_FILTER_TEXT)
    return CallSearch(
        merchant_id=_int(args, "merchant_id"), phone_hashes=phone_hashes, proxy_number=proxy or None,
        call_sid=text["call_sid"], order_ref=text["order_ref"], kind=_choice(args, "kind", KINDS),
        status=_choice(args, "status", tuple(STATUS_RANK)), since=since, until=until,
        has_complaint=None if complaint in (None, "") else complaint in ("true", "1"),
        cursor=decode_cursor(args.get("cursor")), per_page=min(_int(args, "per_page") or 25, max_per_page),
    )


def encode_cursor(record: CallRecord) -> str:
    """An opaque cursor: the position after `record` in newest-first order."""
    raw = f"{as_utc(record.created_at).isoformat()}|{record.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: object) -> tuple[datetime, int] | None:
    if value in (None, ""):
        return None
    try:
        text = base64.urlsafe_b64decode(str(value)[:80] + "===").decode()
        moment, _, record_id = text.partition("|")
        position = as_utc(datetime.fromisoformat(moment)), int(record_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid.cursor", field="cursor") from None
    if not 0 <= position[1] <= LARGEST_ID:  # forged: no row has that id, and the column would overflow
        raise InvalidInput("invalid.cursor", field="cursor")
    return position


def _complaint_exists():
    return select(Complaint.id).where(or_(
        Complaint.call_record_id == CallRecord.id,
        (Complaint.callback_request_id == CallRecord.callback_request_id)
        & CallRecord.callback_request_id.is_not(None),
    )).exists()


def search(criteria: CallSearch, *, only_merchant_id: int | None = None):
    """Matching call records, newest first: `(records, next_cursor)`."""
    query = select(CallRecord)
    merchant_id = only_merchant_id if only_merchant_id is not None else criteria.merchant_id
    if only_merchant_id is not None and criteria.merchant_id not in (None, only_merchant_id):
        return [], None  # a merchant asking for another store's calls sees none
    if only_merchant_id is not None and criteria.phone_hashes:
        # An exact match on the real number would let a store try the three hidden digits of a
        # masked shopper number one by one until a call matched: only audited staff may.
        raise Forbidden("forbidden.phone_filter", field="phone")
    if merchant_id is not None:
        query = query.where(CallRecord.merchant_id == merchant_id)
    if criteria.phone_hashes:
        query = query.where(or_(CallRecord.from_hash.in_(criteria.phone_hashes),
                                CallRecord.to_hash.in_(criteria.phone_hashes)))
    for column, value in ((CallRecord.proxy_number, criteria.proxy_number),
                          (CallRecord.call_sid, criteria.call_sid), (CallRecord.kind, criteria.kind),
                          (CallRecord.status, criteria.status)):
        if value is not None:
            query = query.where(column == value)
    if criteria.order_ref:
        query = query.where(CallRecord.callback_request_id.in_(
            select(CallbackRequest.id).where(CallbackRequest.order_ref == criteria.order_ref)))
    if criteria.since:
        query = query.where(CallRecord.created_at >= criteria.since)
    if criteria.until:
        query = query.where(CallRecord.created_at <= criteria.until)
    if criteria.has_complaint is not None:
        query = query.where(_complaint_exists() if criteria.has_complaint else ~_complaint_exists())
    if criteria.cursor:
        query = query.where(tuple_(CallRecord.created_at, CallRecord.id) < tuple_(*criteria.cursor))
    # Newest first by time, then id: the (merchant_id, created_at) index serves a busy
    # store's date range directly, where ordering by id alone walks the whole table.
    ordered = query.order_by(CallRecord.created_at.desc(), CallRecord.id.desc())
    rows = list(db.session.scalars(ordered.limit(criteria.per_page + 1)))
    more = len(rows) > criteria.per_page
    rows = rows[: criteria.per_page]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)
