"""JSON API: stores, their numbers, and number verification."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from registry.accounts.auth import merchant_required
from registry.core.api import json_body, text_field
from registry.core.extensions import db
from registry.merchants import operations
from registry.merchants.serialize import number_for_owner, profile
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("merchants_api", __name__, url_prefix="/api/v1")


def requester() -> Requester:
    return Requester(ip=request.remote_addr, user_id=current_user.id)


def policy() -> VerificationPolicy:
    return VerificationPolicy.from_config(current_app.config)


@bp.post("/merchants")
@merchant_required
def create_merchant():
    body = json_body()
    merchant = operations.create_merchant(
        current_user.id, body.get("name"), body.get("timezone"), body.get("business_hours")
    )
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(profile(operations.public_profile(merchant))), 201


@bp.get("/merchants/<int:merchant_id>")
def show_merchant(merchant_id: int):
    merchant = operations.get_merchant(merchant_id)
    return jsonify(profile(operations.public_profile(merchant)))


@bp.post("/merchants/<int:merchant_id>/numbers")
@merchant_required
def add_number(merchant_id: int):
    body = json_body()
    merchant = operations.owned_merchant(merchant_id, current_user.id)
    number = operations.add_number(
        merchant, body.get("number"), body.get("region"), text_field(body, "label", required=False),
        default_region=current_app.config["DEFAULT_REGION"],
    )
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(number_for_owner(number)), 201


@bp.get("/merchants/<int:merchant_id>/numbers")
@merchant_required
def list_numbers(merchant_id: int):
    merchant = operations.owned_merchant(merchant_id, current_user.id)
    return jsonify({"items": [number_for_owner(n) for n in merchant.numbers], "next": None})


@bp.post("/numbers/<int:number_id>/verification")
@merchant_required
def send_code(number_id: int):
    body = json_body() if request.content_length else {}
    number = operations.owned_number(number_id, current_user.id)
    sent = operations.start_verification(
        get_gateway(), number, body.get("channel"), requester(), policy()
    )
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify({
        "status": number.status,
        "channel": sent.channel,
        "resend_after_seconds": sent.resend_after_seconds,
        "expires_in_seconds": sent.expires_in_seconds,
    }), 202


@bp.post("/numbers/<int:number_id>/verification/check")
@merchant_required
def check_code(number_id: int):
    body = json_body()
    number = operations.owned_number(number_id, current_user.id)
    operations.confirm_verification(
        get_gateway(), number, body.get("code"), requester(), policy(),
        current_app.config["VERIFICATION_LAPSE_DAYS"],
    )
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify(number_for_owner(number))
