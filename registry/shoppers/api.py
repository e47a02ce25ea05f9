"""JSON API: a shopper proves their number and gets a token."""

from flask import Blueprint, current_app, jsonify, request

from registry.core.api import json_body
from registry.core.extensions import db
from registry.shoppers import operations
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("shoppers_api", __name__, url_prefix="/api/v1/shopper")


def _context():
    return (get_gateway(), Requester(ip=request.remote_addr),
            VerificationPolicy.from_config(current_app.config), current_app.config["DEFAULT_REGION"])


@bp.post("/verification")
def send_code():
    body = json_body()
    gateway, requester, policy, region = _context()
    channel = operations.start_verification(gateway, body.get("phone"), requester, policy, region)
    return jsonify({"status": "pending", "channel": channel,
                    "resend_after_seconds": policy.resend_seconds}), 202


@bp.post("/verification/check")
def check_code():
    body = json_body()
    gateway, requester, policy, region = _context()
    shopper, token = operations.confirm_verification(gateway, body.get("phone"), body.get("code"),
                                                     requester, policy, region)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify({"token": token, "shopper": {"id": shopper.id, "phone": shopper.masked,
                                                "timezone": shopper.timezone}})
