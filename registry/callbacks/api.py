"""JSON API: asking for a callback, following it, cancelling it."""

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from registry.callbacks import on_behalf, operations
from registry.callbacks.serialize import callback, iso
from registry.core.api import json_body
from registry.core.errors import Unauthorized
from registry.core.extensions import db
from registry.core.openapi import auth_required_by
from registry.integrations.auth import current_client
from registry.integrations.operations import require_scope
from registry.merchants.operations import get_merchant
from registry.shoppers.auth import current_shopper, shopper_required

bp = Blueprint("callbacks_api", __name__, url_prefix="/api/v1")


def _policy() -> operations.CallbackPolicy:
    return operations.CallbackPolicy.from_config(current_app.config)


def _shown(request) -> dict:
    """The request as JSON, with `waiting_reason`: why a scheduled call waits, if it does."""
    waiting = operations.request_waiting(request, _policy())
    return callback(request, waiting.code if waiting else None)


@bp.post("/merchants/<int:merchant_id>/callbacks")
@shopper_required
def create(merchant_id: int):
    body = json_body()
    request = operations.request_callback(current_shopper(), merchant_id, body.get("when"),
                                          body.get("order_ref"), body.get("note"), _policy())
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(_shown(request)), 201


@bp.get("/merchants/<int:merchant_id>/callback-slots")
@shopper_required
def slots(merchant_id: int):
    merchant = get_merchant(merchant_id)
    reason = operations.unavailable_reason(merchant)
    items = [] if reason else operations.offered_slots(merchant, current_shopper(), _policy())
    return jsonify({"items": [{"start": iso(s), "end": iso(e)} for s, e in items], "next": None,
                    "unavailable_reason": reason, "shopper_timezone": current_shopper().timezone})


def _visible(request_id: int):
    client = current_client()
    if client is not None:  # an integration client reads the requests it made (scope `callbacks`)
        require_scope(client, "callbacks")
        return operations.visible_request(request_id, client_id=client.id)
    shopper = current_shopper()
    if shopper is None and not current_user.is_authenticated:
        raise Unauthorized("unauthorized.sign_in_or_prove")
    return operations.visible_request(
        request_id, shopper_id=shopper.id if shopper else None,
        owner_id=current_user.id if current_user.is_authenticated and current_user.is_merchant else None,
        staff=current_user.is_authenticated and current_user.is_staff)


@bp.get("/callbacks/<int:request_id>")
def show(request_id: int):
    return jsonify(_shown(_visible(request_id)))


@bp.delete("/callbacks/<int:request_id>")
@auth_required_by("shopperToken", "session", "clientKey")
def cancel(request_id: int):
    client = current_client()
    if client is not None:  # an integration client cancels the requests it made
        require_scope(client, "callbacks")
        request = on_behalf.cancel_for_client(client.id, request_id)
    else:
        shopper = current_shopper()
        if shopper is None:
            raise Unauthorized("unauthorized.prove_phone")
        request = operations.cancel(operations.visible_request(request_id, shopper_id=shopper.id))
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(_shown(request))
