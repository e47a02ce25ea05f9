"""JSON for integration clients (scope `merchants`): a store by the client's external id, and the
bulk import of its stores (CSV or a JSON array; `imports.py` holds the rules)."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app, request
from flask_babel import gettext, ngettext
from pydantic import Field

from registry.accounts.invitations import set_password_url
from registry.core.bodies import MEGABYTE, body_limit
from registry.core.errors import NotFound, UnsupportedMediaType
from registry.core.openapi import ApiModel, operation
from registry.core.text import text_error
from registry.integrations.auth import client_required, current_client
from registry.integrations.idempotency import idempotent
from registry.merchants import operations
from registry.merchants.import_input import rows_from_csv, rows_from_json
from registry.merchants.imports import ImportReport, import_merchants

bp = Blueprint("merchants_client_api", __name__, url_prefix="/api/v1")

MAX_IMPORT_BYTES = 5 * MEGABYTE
Hours = dict[str, list[list[str]]]


class ClientNumber(ApiModel):
    """A store's number as a client sees it: masked, with its status (verified by code only)."""

    id: int
    masked: str
    label: str | None
    status: str


class ClientMerchant(ApiModel):
    """A store as the client that imported it sees it: its public profile, external id, numbers."""

    id: int
    external_id: str
    name: str
    verified: bool
    callback_available: bool
    timezone: str
    business_hours: Hours
    numbers: list[ClientNumber]


class ImportItem(ApiModel):
    """One store of a JSON import (a CSV has the same columns)."""

    external_id: str = Field(max_length=100)
    name: str
    timezone: str | None = Field(None, description="IANA name; empty: Asia/Shanghai when created, "
                                                    "kept when updated.")
    business_hours: Hours | str | None = Field(
        None, description='As in the store API, or text: "mon-fri 09:00-18:00; sat 10:00-14:00".')
    owner_email: str
    number: str | None = Field(None, description="Added unverified; the owner proves it by code.")
    label: str | None = None


class ImportQuery(ApiModel):
    dry_run: bool = Field(False, description="Check every row and answer as applying would, "
                                             "changing nothing.")


class RowError(ApiModel):
    field: str | None
    code: str
    reason: str
    message: str


class RowResult(ApiModel):
    row: int = Field(description="The row's number, from 1 (the CSV header not counted).")
    external_id: str | None
    status: Literal["created", "updated", "unchanged", "error"]
    errors: list[RowError]
    merchant_id: int | None
    set_password_url: str | None = Field(description="For an owner who has no password yet: "
                                                     "the link to choose one (a week, once).")


class ImportSummary(ApiModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: int
    dry_run: bool
    message: str


class ImportResult(ApiModel):
    summary: ImportSummary
    results: list[RowResult]


@bp.get("/merchants/by-external-id/<external_id>")
@client_required("merchants")
@operation(responses={200: ClientMerchant}, errors=(404,), tags=("merchants",))
def by_external_id(external_id: str):
    """One of the client's stores, by the client's own id for it (another client's: 404)."""
    if len(external_id) > 100 or text_error(external_id, "external_id") is not None:
        raise NotFound("not_found.store_external_id", field="external_id")
    merchant = operations.merchant_for_client(current_client().id, external_id=external_id)
    return client_merchant(merchant)


def client_merchant(merchant) -> ClientMerchant:
    profile = operations.public_profile(merchant)
    return ClientMerchant(
        id=merchant.id, external_id=merchant.external_id, name=profile.name, verified=profile.verified,
        callback_available=profile.callback_available, timezone=profile.timezone,
        business_hours=profile.business_hours,
        numbers=[ClientNumber(id=n.id, masked=n.masked, label=n.label, status=n.status)
                 for n in merchant.numbers])


@bp.post("/merchants/import")
@body_limit(MAX_IMPORT_BYTES)
@client_required("merchants")
@idempotent
@operation(body=list[ImportItem], query=ImportQuery, responses={200: ImportResult},
           errors=(413, 415), tags=("merchants",), parse_body=False,
           extra_body_types={"text/csv": {"type": "string", "description": "A header naming the "
                                          "columns, then one store a row (UTF-8)."}})
def import_stores(query: ImportQuery):
    """Create or update the client's stores in bulk (CSV or a JSON array), one result a row.

    Rows that pass are applied even when others fail; `?dry_run=true` changes nothing.
    At most 10,000 rows and 5 MB.
    """
    if request.mimetype == "text/csv":
        rows = rows_from_csv(request.get_data(cache=False))
    elif request.mimetype == "application/json":
        rows = rows_from_json(request.get_data(cache=False))
    else:
        raise UnsupportedMediaType("unsupported_media_type.import", field="Content-Type")
    report = import_merchants(current_client().id, rows, dry_run=query.dry_run,
                              default_region=current_app.config["DEFAULT_REGION"],
                              secret_key=current_app.config["SECRET_KEY"])
    return import_result(report)


def import_result(report: ImportReport) -> ImportResult:
    results = [RowResult(
        row=r.row, external_id=r.external_id, status=r.status, merchant_id=r.merchant_id,
        errors=[RowError(field=e.field, code=e.code, reason=e.key, message=e.message) for e in r.errors],
        set_password_url=set_password_url(r.set_password_token) if r.set_password_token else None,
    ) for r in report.results]
    counts = {status: report.count(status) for status in ("created", "updated", "unchanged", "error")}
    summary = ImportSummary(rows=len(results), created=counts["created"], updated=counts["updated"],
                            unchanged=counts["unchanged"], errors=counts["error"],
                            dry_run=report.dry_run, message=summary_message(report))
    return ImportResult(summary=summary, results=results)


def summary_message(report: ImportReport) -> str:
    """One sentence saying what happened, in the request's language."""
    good = len(report.results) - report.count("error")
    failed = report.count("error")
    if report.dry_run:
        text = ngettext("Dry run: %(num)d row would be applied; nothing was changed.",
                        "Dry run: %(num)d rows would be applied; nothing was changed.", good)
        if failed:
            text += " " + ngettext("%(num)d row has errors and would be skipped.",
                                   "%(num)d rows have errors and would be skipped.", failed)
        return text
    text = ngettext("%(num)d row was applied.", "%(num)d rows were applied.", good)
    if failed:
        text += " " + ngettext(
            "%(num)d row has errors and was skipped; the other rows were applied all the same.",
            "%(num)d rows have errors and were skipped; the other rows were applied all the same.",
            failed)
    return text + " " + gettext("Numbers are added unverified: each owner proves them by code.")
