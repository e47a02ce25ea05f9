"""JSON API for integration clients: callbacks on a shopper's behalf (scope `callbacks`).

`POST /api/v1/callbacks` is here; reading and cancelling the request are the routes every
party uses (`api.show`, `api.cancel`), which admit the client that asked for it.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from pydantic import Field

from registry.callbacks import on_behalf
from registry.callbacks.api import policy, shown
from registry.callbacks.schemas import WHEN, Callback
from registry.core.openapi import checked_by_operation, operation
from registry.integrations.auth import client_required, current_client
from registry.integrations.idempotency import idempotent
from registry.merchants.schemas import StoreReference

bp = Blueprint("callbacks_client_api", __name__, url_prefix="/api/v1")


class CallbackOnBehalf(StoreReference):
    """Ask for a callback for a shopper the marketplace knows. Name the store by `merchant_id` or
    by your own `merchant_external_id` (one of them)."""

    shopper_phone: str = Field(description="The shopper's number, which the marketplace has proved.")
    when: checked_by_operation(WHEN, optional=True) = None
    order_ref: str | None = None
    note: str | None = None


@bp.post("/callbacks")
@client_required("callbacks")
@idempotent
@operation(body=CallbackOnBehalf, responses={201: Callback}, errors=(403, 404, 409),
           tags=("callbacks",))
def create_callback(body: CallbackOnBehalf):
    """Ask for a callback on a shopper's behalf: the rules of a shopper's own request apply
    (calling hours, limits, one open request per shopper and store; a blocked shopper is 403)."""
    request = on_behalf.request_for_client(
        current_client().id, merchant_id=body.merchant_id, merchant_external_id=body.merchant_external_id,
        shopper_phone=body.shopper_phone, when=body.when, order_ref=body.order_ref, note=body.note,
        policy=policy(), default_region=current_app.config["DEFAULT_REGION"])
    return shown(request), 201
