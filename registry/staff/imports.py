"""HTML: the merchant import in the staff console, for admins only.

An admin chooses an integration client and a CSV file (the columns of the API's import,
`docs/integrations.md`): the file is checked as a dry run and shown as a preview table (each
row's status and errors); "Apply" imports it for that client, with the same operation as
`POST /api/v1/merchants/import`, and shows the result with the owners' set-password links.
Applying is in the staff audit log. The file travels back with the "Apply" form (compressed,
in a hidden field), so nothing is kept on the server between the two steps.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField

from registry.accounts.auth import admin_required
from registry.audit.operations import audit
from registry.core.bodies import MEGABYTE, body_limit
from registry.core.errors import AppError, InvalidInput, PayloadTooLarge
from registry.core.forms import BaseForm
from registry.core.pages import refuse, register_page_errors
from registry.core.urls import parse_id
from registry.integrations import operations as clients
from registry.merchants.client_api import MAX_IMPORT_BYTES, import_result
from registry.merchants.import_input import COLUMNS, rows_from_csv
from registry.merchants.imports import import_merchants
from registry.staff.views import refuse_shopper_browsers

bp = Blueprint("staff_imports", __name__, url_prefix="/staff/imports")
register_page_errors(bp)
bp.before_request(refuse_shopper_browsers("forbidden.needs_admin"))

# The "Apply" form carries the file compressed, base64-encoded: at worst a third larger.
MAX_APPLY_BYTES = MAX_IMPORT_BYTES * 4 // 3 + MEGABYTE
TEMPLATE = "staff/imports.html"


class ImportForm(BaseForm):
    client_id = SelectField(_l("Integration client"), coerce=int, validate_choice=False,
                            description=_l("The stores are imported as this client's, by its external ids."))
    file = FileField(_l("CSV file"), description=_l("UTF-8, with a header naming the columns; at most "
                                                    "10,000 rows and 5 MB."))


class ApplyForm(BaseForm):
    client_id = HiddenField()
    packed = HiddenField()


def _client_choices() -> list[tuple[int, str]]:
    return [(c.id, f"{c.name} (#{c.id})") for c in clients.list_clients() if not c.revoked]


def _form() -> ImportForm:
    form = ImportForm()
    form.client_id.choices = _client_choices()
    return form


def _client(client_id: object):
    if not isinstance(client_id, int):
        raise InvalidInput("required", field="client_id", name="client_id")
    client = clients.get_client(client_id)
    if client.revoked:
        raise InvalidInput("conflict.client_revoked", field="client_id")
    return client


def _render(form, status: int = 200, **context):
    page = render_template(TEMPLATE, form=form, errors={}, columns=COLUMNS, **context)
    return page, status


@bp.get("/")
@admin_required
def index():
    """The form: a client and a CSV file."""
    return _render(_form())


@bp.post("/preview")
@body_limit(MAX_IMPORT_BYTES)
@admin_required
def preview():
    """Check the file as a dry run and show what applying it would do."""
    form = _form()
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        client = _client(form.client_id.data)
        upload = form.file.data
        if upload is None or not hasattr(upload, "read"):
            raise InvalidInput("required", field="file", name="file")
        data = upload.read(MAX_IMPORT_BYTES + 1)
        _within_limit(data)
        report = import_merchants(client.id, rows_from_csv(data), dry_run=True,
                                  default_region=current_app.config["DEFAULT_REGION"])
    except AppError as error:
        return refuse(error, TEMPLATE, form, ("file",), columns=COLUMNS)
    packed = base64.b64encode(zlib.compress(data)).decode()
    apply_form = ApplyForm(formdata=None, client_id=client.id, packed=packed)
    return _render(form, client=client, result=import_result(report), apply_form=apply_form)


@bp.post("/apply")
@body_limit(MAX_APPLY_BYTES)
@admin_required
def apply():
    """Import the previewed file for its client, and show each row's result."""
    form, apply_form = _form(), ApplyForm()
    if not apply_form.validate_on_submit():
        return _render(form, 422)
    try:
        client = _client(parse_id(apply_form.client_id.data))
        data = _unpack(apply_form.packed.data or "")
        report = import_merchants(client.id, rows_from_csv(data), dry_run=False,
                                  default_region=current_app.config["DEFAULT_REGION"],
                                  secret_key=current_app.config["SECRET_KEY"])
    except AppError as error:
        return refuse(error, TEMPLATE, form, ("file",), columns=COLUMNS)
    result = import_result(report)
    audit(current_user.id, "merchant_import", f"integration_client:{client.id}", None,
          {"rows": result.summary.rows, "created": result.summary.created,
           "updated": result.summary.updated, "unchanged": result.summary.unchanged,
           "errors": result.summary.errors})
    form.client_id.data = client.id
    return _render(form, client=client, result=result, applied=True)


def _unpack(packed: str) -> bytes:
    """The file the preview packed into the "Apply" form (never more than the import takes)."""
    try:
        data = zlib.decompressobj().decompress(base64.b64decode(packed, validate=True),
                                               MAX_IMPORT_BYTES + 1)
    except (binascii.Error, zlib.error, ValueError):
        raise InvalidInput("invalid.import_csv", field="file", line=1) from None
    _within_limit(data)
    return data


def _within_limit(data: bytes) -> None:
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("too_large.body", field="file", limit=f"{MAX_IMPORT_BYTES / MEGABYTE:g} MB")
