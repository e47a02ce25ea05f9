"""HTML: integration clients in the staff console, for admins only.

List the clients, create one (its key is shown on the answer to that POST, once, and never
again: only its hash is stored) and revoke one. Creating and revoking are in the staff
audit log; a refused form shows the page again with the message by its field (422).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import admin_required
from registry.audit.operations import audit
from registry.core.errors import AppError
from registry.core.pages import refuse, register_page_errors, render_form
from registry.integrations import operations
from registry.staff.forms import ClientForm, RevokeClientForm
from registry.staff.views import refuse_shopper_browsers

bp = Blueprint("staff_clients", __name__, url_prefix="/staff/clients")
register_page_errors(bp)

NO_STORE = {"Cache-Control": "no-store"}


bp.before_request(refuse_shopper_browsers("forbidden.needs_admin"))


def _context() -> dict:
    return {"clients": operations.list_clients()}


@bp.get("/")
@admin_required
def index():
    """Every client, newest first, and the form to create one."""
    return render_template("staff/clients.html", form=ClientForm(formdata=None), errors={}, **_context())


@bp.post("/")
@admin_required
def create():
    """Create a client and show its key, this once."""
    form = ClientForm()
    if not form.validate_on_submit():  # a field refused (core.forms): 422, by the field
        return render_form("staff/clients.html", form, **_context())
    try:
        client, key = operations.create_client(form.name.data, form.scopes.data, created_by=current_user.id)
    except AppError as error:
        return refuse(error, "staff/clients.html", form, **_context())
    audit(current_user.id, "client_create", f"integration_client:{client.id}", None,
          {"name": client.name, "scopes": ",".join(client.scopes)})
    html = render_template("staff/client_created.html", client=client, key=key)
    return html, 200, NO_STORE


@bp.post("/<int:client_id>/revoke")
@admin_required
def revoke(client_id: int):
    """Revoke a client's key: its next call is refused."""
    if RevokeClientForm().validate_on_submit():
        client = operations.revoke_client(client_id)
        audit(current_user.id, "client_revoke", f"integration_client:{client.id}", None,
              {"name": client.name})
        flash(_("Integration client “%(name)s” is revoked: its key no longer works.", name=client.name),
              "success")
    return redirect(url_for(".index"))
