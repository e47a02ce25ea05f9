"""HTML: outbound webhooks in the staff console, for admins only: every client's endpoints
with their success rate, the latest deliveries with each attempt, and a "Redeliver" button."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import admin_required
from registry.audit.operations import audit
from registry.core.errors import AppError
from registry.core.forms import BaseForm
from registry.core.messages import render
from registry.core.pages import register_page_errors
from registry.core.urls import parse_id
from registry.staff.views import refuse_shopper_browsers
from registry.webhooks import stats


class RedeliverForm(BaseForm):
    """Only the CSRF token: the "Redeliver" button of one delivery."""


bp = Blueprint("staff_webhooks", __name__, url_prefix="/staff/webhooks")
register_page_errors(bp)
bp.before_request(refuse_shopper_browsers("forbidden.needs_admin"))


@bp.get("/")
@admin_required
def index():
    """The endpoints, and the latest deliveries (of one endpoint with `?endpoint_id=ID`)."""
    endpoint_id = parse_id(request.args.get("endpoint_id"))
    return render_template("staff/webhooks.html", health=stats.endpoint_health(),
                           deliveries=stats.recent_deliveries(endpoint_id), endpoint_id=endpoint_id,
                           form=RedeliverForm())


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@admin_required
def redeliver(delivery_id: int):
    """Queue one more attempt of a finished delivery (the scheduler sends it)."""
    if RedeliverForm().validate_on_submit():
        try:
            delivery = stats.redeliver(delivery_id)
        except AppError as error:
            flash(render(error), "error")
        else:
            audit(current_user.id, "webhook_redeliver", f"webhook_delivery:{delivery.id}", None,
                  {"webhook_id": delivery.msg_id, "event_type": delivery.event_type})
            flash(_("Delivery %(id)s is queued again; the scheduler sends it within seconds.",
                    id=delivery.id), "success")
    return redirect(url_for(".index"))
