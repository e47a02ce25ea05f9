"""JSON API: asking for a callback, following it, cancelling it."""

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from registry.callbacks import operations
from registry.callbacks.serialize import callback, iso
from registry.core.api import json_body
from registry.core.errors import Unauthorized
from registry.core.extensions import db
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
@shopper_required
def cancel(request_id: int):
    request = operations.visible_request(request_id, shopper_id=current_shopper().id)
    operations.cancel(request)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(_shown(request))
