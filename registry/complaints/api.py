"""JSON API: the call log (staff, or a merchant for its own calls) and complaints."""

from flask import Blueprint, current_app, request
from flask_login import current_user

from registry.audit.operations import audit, reveal_call_number
from registry.calllog.models import CallRecord
from registry.calllog.schemas import CallRecordDetail, CallRecordSummary
from registry.complaints import operations as complaints
from registry.complaints import search
from registry.complaints.schemas import (
    CallSearchQuery,
    ComplaintFilter,
    ComplaintShown,
    NewComplaint,
    Resolution,
    RevealedNumber,
    RevealRequest,
)
from registry.core.errors import Forbidden, Unauthorized
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.openapi import Page, operation
from registry.merchants.operations import merchant_of
from registry.shoppers.auth import current_shopper

bp = Blueprint("complaints_api", __name__, url_prefix="/api/v1")
# Who may call these: each view decides from the caller's role (`_viewer`).
ANYONE_SIGNED_IN = ("userToken", "shopperToken", "session")
STAFF_OR_MERCHANT = ("userToken", "session")


def _viewer():
    """('staff', user) or ('merchant', merchant); shoppers and strangers are refused."""
    if current_user.is_authenticated:
        if current_user.is_staff:
            return "staff", current_user
        store = merchant_of(current_user.id)
        if store is not None:
            return "merchant", store
        raise Forbidden("forbidden.call_records")
    if current_shopper() is not None:
        raise Forbidden("forbidden.call_records")
    raise Unauthorized("unauthorized")


def _staff():
    role, user = _viewer()
    if role != "staff":
        raise Forbidden("forbidden.needs_staff")
    return user


@bp.get("/call-records")
@operation(query=CallSearchQuery, responses={200: Page[CallRecordSummary]}, errors=(401, 403),
           security=STAFF_OR_MERCHANT, tags=("call log",))
def list_call_records(query: CallSearchQuery):
    """Search the call log, newest first: staff every call (by phone too), a merchant its own."""
    role, who = _viewer()
    criteria = search.parse_search(request.args, current_app.config["DEFAULT_REGION"],
                                   current_app.config["API_MAX_PER_PAGE"])
    rows, cursor = search.search(criteria, only_merchant_id=who.id if role == "merchant" else None)
    if role == "staff":
        audit(who.id, "search", None, None, criteria.described())
    return Page[CallRecordSummary](items=[CallRecordSummary.of(r) for r in rows], next=cursor)


def _visible_record(record_id: int) -> tuple[str, CallRecord]:
    role, who = _viewer()
    record = get_or_refuse(CallRecord, record_id, "not_found.call_record",
                           lambda r: role != "merchant" or r.merchant_id == who.id)
    return role, record


@bp.get("/call-records/<int:record_id>")
@operation(responses={200: CallRecordDetail}, errors=(401, 403), security=STAFF_OR_MERCHANT,
           tags=("call log",))
def show_call_record(record_id: int):
    """A call leg with its hash-chained events."""
    role, record = _visible_record(record_id)
    if role == "staff":
        audit(current_user.id, "view", f"call_record:{record.id}")
    return CallRecordDetail.of(record)


@bp.post("/call-records/<int:record_id>/reveal")
@operation(body=RevealRequest, responses={200: RevealedNumber}, errors=(401, 403),
           security=STAFF_OR_MERCHANT, tags=("call log",))
def reveal(record_id: int, body: RevealRequest):
    """A leg's real number, for complaint staff, with a reason that is audited."""
    staff = _staff()
    return RevealedNumber(number=reveal_call_number(staff.id, record_id, body.side, body.reason))


@bp.post("/complaints")
@operation(body=NewComplaint, responses={201: ComplaintShown}, errors=(401, 403, 404, 409),
           security=ANYONE_SIGNED_IN, tags=("complaints",))
def file_complaint(body: NewComplaint):
    """File a complaint about a call (a shopper or a merchant who took part in it)."""
    shopper = current_shopper()
    if shopper is not None:
        item = complaints.file_by_shopper(shopper, body.call_record_id, body.callback_request_id,
                                          body.category, body.text)
    elif current_user.is_authenticated and current_user.is_merchant:
        item = complaints.file_by_merchant(current_user.id, body.call_record_id, body.category,
                                           body.text)
    elif current_user.is_authenticated:
        raise Forbidden("forbidden.staff_do_not_file")
    else:
        raise Unauthorized("unauthorized.sign_in_or_prove")
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return ComplaintShown.of(item), 201


@bp.get("/complaints")
@operation(query=ComplaintFilter, responses={200: Page[ComplaintShown]}, errors=(401,),
           security=ANYONE_SIGNED_IN, tags=("complaints",))
def list_complaints(query: ComplaintFilter):
    """Complaints the caller may see (staff all, a merchant its store's, a shopper their own)."""
    status = query.status or None
    shopper = current_shopper()
    if current_user.is_authenticated and current_user.is_staff:
        items = complaints.complaints_for(staff=True, status=status)
    elif current_user.is_authenticated:
        store = merchant_of(current_user.id)
        items = complaints.complaints_for(merchant_id=store.id if store else -1, status=status)
    elif shopper is not None:
        items = complaints.complaints_for(shopper_id=shopper.id, status=status)
    else:
        raise Unauthorized("unauthorized.sign_in_or_prove")
    return Page[ComplaintShown](items=[ComplaintShown.of(c) for c in items], next=None)


@bp.post("/complaints/<int:complaint_id>/assign")
@operation(responses={200: ComplaintShown}, errors=(401, 403, 409), security=STAFF_OR_MERCHANT,
           tags=("complaints",))
def assign_complaint(complaint_id: int):
    """Take a complaint (complaint staff)."""
    staff = _staff()
    item = complaints.assign(complaints.get_complaint(complaint_id), staff.id)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return ComplaintShown.of(item)


@bp.post("/complaints/<int:complaint_id>/resolve")
@operation(body=Resolution, responses={200: ComplaintShown}, errors=(401, 403, 409),
           security=STAFF_OR_MERCHANT, tags=("complaints",))
def resolve_complaint(complaint_id: int, body: Resolution):
    """Close a complaint with an action against the merchant or shopper (complaint staff)."""
    staff = _staff()
    item = complaints.resolve(complaints.get_complaint(complaint_id), staff.id, body.action,
                              body.resolution)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return ComplaintShown.of(item)
