"""JSON API: the call log (staff, or a merchant for its own calls) and complaints."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from registry.audit.operations import audit, reveal_call_number
from registry.calllog.models import CallRecord
from registry.calllog.serialize import call_record, call_record_detail
from registry.complaints import operations as complaints
from registry.complaints import search
from registry.complaints.serialize import complaint
from registry.core.api import json_body
from registry.core.errors import Forbidden, Unauthorized
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.merchants.operations import merchant_of
from registry.shoppers.auth import current_shopper

bp = Blueprint("complaints_api", __name__, url_prefix="/api/v1")


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
def list_call_records():
    role, who = _viewer()
    criteria = search.parse_search(request.args, current_app.config["DEFAULT_REGION"],
                                   current_app.config["API_MAX_PER_PAGE"])
    rows, cursor = search.search(criteria, only_merchant_id=who.id if role == "merchant" else None)
    if role == "staff":
        audit(who.id, "search", None, None, criteria.described())
    return jsonify({"items": [call_record(r) for r in rows], "next": cursor})


def _visible_record(record_id: int) -> tuple[str, CallRecord]:
    role, who = _viewer()
    record = get_or_refuse(CallRecord, record_id, "not_found.call_record",
                           lambda r: role != "merchant" or r.merchant_id == who.id)
    return role, record


@bp.get("/call-records/<int:record_id>")
def show_call_record(record_id: int):
    role, record = _visible_record(record_id)
    if role == "staff":
        audit(current_user.id, "view", f"call_record:{record.id}")
    return jsonify(call_record_detail(record))


@bp.post("/call-records/<int:record_id>/reveal")
def reveal(record_id: int):
    staff = _staff()
    body = json_body()
    number = reveal_call_number(staff.id, record_id, body.get("side"), body.get("reason"))
    return jsonify({"number": number})


@bp.post("/complaints")
def file_complaint():
    body = json_body()
    shopper = current_shopper()
    if shopper is not None:
        item = complaints.file_by_shopper(shopper, body.get("call_record_id"),
                                          body.get("callback_request_id"), body.get("category"),
                                          body.get("text"))
    elif current_user.is_authenticated and current_user.is_merchant:
        item = complaints.file_by_merchant(current_user.id, body.get("call_record_id"),
                                           body.get("category"), body.get("text"))
    elif current_user.is_authenticated:
        raise Forbidden("forbidden.staff_do_not_file")
    else:
        raise Unauthorized("unauthorized.sign_in_or_prove")
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(complaint(item)), 201


@bp.get("/complaints")
def list_complaints():
    status = request.args.get("status") or None
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
    return jsonify({"items": [complaint(c) for c in items], "next": None})


@bp.post("/complaints/<int:complaint_id>/assign")
def assign_complaint(complaint_id: int):
    staff = _staff()
    item = complaints.assign(complaints.get_complaint(complaint_id), staff.id)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(complaint(item))


@bp.post("/complaints/<int:complaint_id>/resolve")
def resolve_complaint(complaint_id: int):
    staff = _staff()
    body = json_body()
    item = complaints.resolve(complaints.get_complaint(complaint_id), staff.id, body.get("action"),
                              body.get("resolution"))
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(complaint(item))
