"""HTML: the complaint staff's console (staff accounts only).

Search the call log, read a call and a callback request's whole timeline,
reveal a number for a stated reason, handle complaints, export a search as
CSV, and see the dashboard. Every search, view, reveal and export writes a
`staff_audit` row in the same transaction as the request's other work; each
view parses its input, calls one operation and renders (the request's end commits).
A refused filter or form shows the page again with the message by its field.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import staff_required
from registry.audit.operations import audit, audit_log, reveal_call_number
from registry.calllog.models import CallRecord
from registry.calllog.serving import recording_response
from registry.calllog.verification import run_verification
from registry.complaints import operations as complaints
from registry.complaints.models import COMPLAINT_STATUSES
from registry.complaints.search import parse_search, search
from registry.core.errors import AppError, Forbidden, InvalidInput
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.pages import refuse, register_page_errors, render_form
from registry.core.phones import format_international
from registry.shoppers.auth import current_shopper
from registry.shoppers.models import Shopper
from registry.staff import dashboard as queries
from registry.staff import events, export, timeline
from registry.staff.forms import (
    ACTION_LABELS,
    COMPLAINT_STATUS_LABELS,
    AssignForm,
    ResolveForm,
    RevealForm,
    SearchForm,
    VerifyChainForm,
    filter_query,
    search_args,
    utc_time,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
register_page_errors(bp)
bp.add_app_template_filter(utc_time, "utc_time")


@bp.context_processor
def _labels() -> dict:
    return {"COMPLAINT_STATUS_LABELS": COMPLAINT_STATUS_LABELS, "international": format_international,
            "words": events}


def refuse_shopper_browsers(key: str):
    """A before-request step: a browser signed in only as a shopper is refused (`key`), not
    sent to the staff login."""
    def refuse():
        if not current_user.is_authenticated and current_shopper() is not None:
            raise Forbidden(key)

    return refuse


bp.before_request(refuse_shopper_browsers("forbidden.needs_staff"))


def _criteria():
    return parse_search(search_args(request.args), current_app.config["DEFAULT_REGION"], export.MAX_ROWS)


@bp.get("/")
@staff_required
def dashboard():
    """Charts from the log: calls and answer rate per day, complaints per store, pool pressure."""
    return render_template(
        "staff/dashboard.html", daily=queries.daily_calls(), per_merchant=queries.complaints_per_merchant(),
        pressure=queries.pool_pressure(current_app.config["PROXY_NUMBER_CAP"],
                                       current_app.config["POOL_LOW_WATERMARK"]),
        chain=queries.chain_status(), verify_form=VerifyChainForm(),
        open_complaints=queries.open_complaints(), webhooks=queries.webhook_success())


@bp.post("/chain/verify")
@staff_required
def verify_chain():
    """Walk the call log's hash chain now (as the daily job does), keep the result, and say it."""
    if VerifyChainForm().validate_on_submit():
        # One process: a web worker must not fork a pool to walk the chain (the daily job may).
        result = run_verification(workers=1)
        audit(current_user.id, "verify", "call_log", None,
              {"ok": result.ok, "events": result.events, "broken_at": result.broken_at})
        if result.ok:
            flash(_("The call log is intact: %(n)s events verified.", n=result.events), "success")
        else:
            flash(_("The call log is broken at event %(seq)s: %(reason)s.", seq=result.broken_at,
                    reason=result.reason), "error")
    return redirect(url_for(".dashboard"))


@bp.get("/calls")
@staff_required
def calls():
    """Search the call log; results are paged with the search's cursor."""
    form = SearchForm(request.args)
    context = {"records": [], "next_cursor": None, "filter_query": filter_query, "max_rows": export.MAX_ROWS}
    try:
        criteria = _criteria()
    except AppError as error:
        return refuse(error, "staff/calls.html", form, **context)
    records, cursor = search(criteria)
    audit(current_user.id, "search", None, None, criteria.described())
    html = render_template("staff/calls.html", form=form, errors={}, **{
        **context, "records": records, "next_cursor": cursor, "paged": bool(request.args.get("cursor")),
        "merchants": queries.merchant_names(r.merchant_id for r in records)})
    return html


@bp.get("/calls/export")
@staff_required
def export_calls():
    """The current search as CSV (masked numbers, at most `MAX_ROWS` rows)."""
    try:
        criteria = _criteria()
    except AppError as error:
        return refuse(error, "staff/calls.html", SearchForm(request.args), records=[],
                      next_cursor=None, filter_query=filter_query, max_rows=export.MAX_ROWS)
    result = export.export_calls(criteria, export.MAX_ROWS)
    audit(current_user.id, "export", None, None,
          {**criteria.described(), "rows": result.rows, "truncated": result.truncated})
    name = f"calls-first-{result.rows}.csv" if result.truncated else "calls.csv"
    return Response(result.text, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store",
        "X-Export-Rows": str(result.rows), "X-Export-Truncated": "true" if result.truncated else "false"})


def _call_page(record_id: int, reveal_form: RevealForm | None = None, revealed: dict | None = None,
               errors: dict | None = None):
    page = timeline.call_page(record_id)
    return render_template("staff/call.html", page=page, record=page.record, form=reveal_form or RevealForm(),
                           revealed=revealed, errors=errors or {})


@bp.get("/calls/<int:record_id>")
@staff_required
def call(record_id: int):
    """One leg: masked numbers, its chained events, complaints, the recording."""
    html = _call_page(record_id)
    audit(current_user.id, "view", f"call_record:{record_id}")
    return html


@bp.route("/calls/<int:record_id>/reveal", methods=["GET", "POST"])
@staff_required
def reveal(record_id: int):
    """Show one real number once, for a reason of 10 characters or more; audited.

    The number is only ever in this POST's answer (never in a redirect or
    the session); opening the address again shows the call, masked.
    """
    if request.method == "GET":
        return redirect(url_for(".call", record_id=record_id))
    form = RevealForm()
    if not form.validate_on_submit():  # a field refused (core.forms): 422, by the field
        return _call_page(record_id, form), 422
    try:
        number = reveal_call_number(current_user.id, record_id, form.side.data, form.reason.data)
    except AppError as error:
        page = timeline.call_page(record_id)
        return refuse(error, "staff/call.html", form, page=page, record=page.record, revealed=None)
    html = _call_page(record_id, RevealForm(formdata=None), {"side": form.side.data, "number": number})
    return html, 200, {"Cache-Control": "no-store"}


@bp.get("/calls/<int:record_id>/recording")
@staff_required
def recording(record_id: int):
    """The leg's recording, from the platform's storage (the file, the object streamed, or a
    redirect to a short-lived presigned URL of it); audited as a listen."""
    record = get_or_refuse(CallRecord, record_id, "not_found.call_record")
    response = recording_response(record)
    audit(current_user.id, "listen", f"call_record:{record.id}")
    return response


@bp.get("/callbacks/<int:request_id>")
@staff_required
def callback(request_id: int):
    """A callback request's whole timeline: attempts, legs, events, bindings, recordings."""
    html = render_template("staff/callback.html", t=timeline.request_timeline(request_id))
    audit(current_user.id, "view", f"callback_request:{request_id}")
    return html


def _before() -> int | None:
    raw = request.args.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None  # not "²"


@bp.get("/complaints")
@staff_required
def complaint_list():
    """The complaint queue, filtered by status, newest first."""
    status = request.args.get("status") or None
    if status is not None and status not in COMPLAINT_STATUSES:
        error = InvalidInput("invalid.choice", field="status", name="status",
                             values=", ".join(COMPLAINT_STATUSES))
        return refuse(error, "staff/complaints.html", None, ("status",), items=[], status=None,
                      before=None, merchants={}, statuses=COMPLAINT_STATUSES)
    items, before = queries.complaint_queue(status, _before())
    names = queries.merchant_names(c.merchant_id for c in items)
    audit(current_user.id, "list", "complaints", None, {"status": status} if status else {})
    html = render_template("staff/complaints.html", items=items, status=status, before=before,
                           merchants=names, statuses=COMPLAINT_STATUSES, errors={})
    return html


def _complaint_context(item) -> dict:
    shopper = db.session.get(Shopper, item.shopper_id) if item.shopper_id else None
    return {"item": item, "shopper": shopper, "merchants": queries.merchant_names([item.merchant_id]),
            "emails": queries.user_emails([item.assignee_id]), "assign_form": AssignForm()}


@bp.get("/complaints/<int:complaint_id>")
@staff_required
def complaint(complaint_id: int):
    """One complaint, what it is about, and the forms to take it and resolve it."""
    item = complaints.get_complaint(complaint_id)
    html = render_template("staff/complaint.html", errors={}, form=ResolveForm(), **_complaint_context(item))
    audit(current_user.id, "view", f"complaint:{item.id}")
    return html


@bp.post("/complaints/<int:complaint_id>/assign")
@staff_required
def assign(complaint_id: int):
    """Take the complaint: it is now yours to resolve."""
    item = complaints.get_complaint(complaint_id)
    if AssignForm().validate_on_submit():
        try:
            complaints.assign(item, current_user.id)
        except AppError as error:
            return refuse(error, "staff/complaint.html", ResolveForm(), **_complaint_context(item))
        flash(_("The complaint is assigned to you."), "success")
    return redirect(url_for(".complaint", complaint_id=item.id))


@bp.post("/complaints/<int:complaint_id>/resolve")
@staff_required
def resolve(complaint_id: int):
    """Close the complaint with an action: none, warn, suspend the store's number, block the shopper."""
    item = complaints.get_complaint(complaint_id)
    form = ResolveForm()
    if not form.validate_on_submit():  # a field refused (core.forms): the form again, 422
        return render_form("staff/complaint.html", form, **_complaint_context(item))
    try:
        complaints.resolve(item, current_user.id, form.action.data, form.resolution.data)
    except AppError as error:
        error.field = "resolution" if error.field == "reason" else error.field
        return refuse(error, "staff/complaint.html", form, **_complaint_context(item))
    flash(_("The complaint is resolved: %(action)s.", action=ACTION_LABELS[item.action]), "success")
    return redirect(url_for(".complaint", complaint_id=item.id))


@bp.get("/audit")
@staff_required
def audit_page():
    """Who looked at what, revealed what, and did what; newest first."""
    entries = audit_log(limit=50, before_id=_before())
    return render_template("staff/audit.html", entries=entries,
                           emails=queries.user_emails(e.staff_id for e in entries),
                           before=entries[-1].id if len(entries) == 50 else None)
