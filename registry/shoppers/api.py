"""JSON API: a shopper proves their number and gets a token."""

from typing import Literal

from flask import Blueprint, current_app, request

from registry.core.extensions import db
from registry.core.openapi import ApiModel, CodeText, LenientModel, PhoneText, operation
from registry.shoppers import operations
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("shoppers_api", __name__, url_prefix="/api/v1/shopper")


class CodeRequest(LenientModel):
    phone: PhoneText


class CodeSent(ApiModel):
    status: Literal["pending"]
    channel: str
    resend_after_seconds: int


class CodeCheck(LenientModel):
    phone: PhoneText
    code: CodeText


class ShopperSeen(ApiModel):
    """The shopper, as they see themselves (the number masked)."""

    id: int
    phone: str
    timezone: str


class ShopperToken(ApiModel):
    """A shopper token for `Authorization: Bearer …`."""

    token: str
    shopper: ShopperSeen


def _context():
    return (get_gateway(), Requester(ip=request.remote_addr),
            VerificationPolicy.from_config(current_app.config), current_app.config["DEFAULT_REGION"])


@bp.post("/verification")
@operation(body=CodeRequest, responses={202: CodeSent}, errors=(409,), tags=("shoppers",))
def send_code(body: CodeRequest):
    """Send a code to the shopper's phone."""
    gateway, requester, policy, region = _context()
    channel = operations.start_verification(gateway, body.phone, requester, policy, region)
    return CodeSent(status="pending", channel=channel, resend_after_seconds=policy.resend_seconds), 202


@bp.post("/verification/check")
@operation(body=CodeCheck, responses={200: ShopperToken}, errors=(409,), tags=("shoppers",))
def check_code(body: CodeCheck):
    """Check the code; the answer carries the shopper's token."""
    gateway, requester, policy, region = _context()
    shopper, token = operations.confirm_verification(gateway, body.phone, body.code,
                                                     requester, policy, region)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return ShopperToken(token=token, shopper=ShopperSeen(id=shopper.id, phone=shopper.masked,
                                                         timezone=shopper.timezone))
