"""JSON API: stores, their numbers, and number verification."""

from flask import Blueprint, current_app, request
from flask_login import current_user

from registry.accounts.auth import merchant_required
from registry.core.errors import Forbidden, Unauthorized
from registry.core.extensions import db
from registry.core.openapi import Page, operation
from registry.integrations.auth import current_client
from registry.integrations.operations import require_scope
from registry.merchants import embed, operations
from registry.merchants.models import Merchant
from registry.merchants.schemas import (
    CodeCheck,
    EmbedOrigins,
    EmbedOriginsUpdate,
    NewNumber,
    NewStore,
    NumberForOwner,
    SendCode,
    StoreProfile,
    VerificationStarted,
)
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("merchants_api", __name__, url_prefix="/api/v1")


def requester() -> Requester:
    return Requester(ip=request.remote_addr, user_id=current_user.id)


def policy() -> VerificationPolicy:
    return VerificationPolicy.from_config(current_app.config)


@bp.post("/merchants")
@merchant_required
@operation(body=NewStore, responses={201: StoreProfile}, errors=(409,), tags=("merchants",))
def create_merchant(body: NewStore):
    """Create the signed-in merchant's store."""
    merchant = operations.create_merchant(current_user.id, body.name, body.timezone, body.business_hours)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return StoreProfile.of(operations.public_profile(merchant)), 201


@bp.get("/merchants/<int:merchant_id>")
@operation(responses={200: StoreProfile}, tags=("merchants",))
def show_merchant(merchant_id: int):
    """A store's public profile (anyone may read it; never a real number)."""
    return StoreProfile.of(operations.public_profile(operations.get_merchant(merchant_id)))


@bp.post("/merchants/<int:merchant_id>/numbers")
@merchant_required
@operation(body=NewNumber, responses={201: NumberForOwner}, errors=(409,), tags=("merchants",))
def add_number(merchant_id: int, body: NewNumber):
    """Add a contact number to the store, unverified."""
    merchant = operations.owned_merchant(merchant_id, current_user.id)
    number = operations.add_number(merchant, body.number, body.region, body.label,
                                   default_region=current_app.config["DEFAULT_REGION"])
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return NumberForOwner.of(number), 201


@bp.get("/merchants/<int:merchant_id>/numbers")
@merchant_required
@operation(responses={200: Page[NumberForOwner]}, tags=("merchants",))
def list_numbers(merchant_id: int):
    """The store's numbers, in full, with their status (its owner only)."""
    merchant = operations.owned_merchant(merchant_id, current_user.id)
    return Page[NumberForOwner](items=[NumberForOwner.of(n) for n in merchant.numbers], next=None)


@bp.post("/numbers/<int:number_id>/verification")
@merchant_required
@operation(body=SendCode, responses={202: VerificationStarted}, errors=(409,), tags=("merchants",))
def send_code(number_id: int, body: SendCode):
    """Send a code to the number (by SMS, or a voice call for a landline)."""
    number = operations.owned_number(number_id, current_user.id)
    sent = operations.start_verification(get_gateway(), number, body.channel, requester(), policy())
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return VerificationStarted(status=number.status, channel=sent.channel,
                               resend_after_seconds=sent.resend_after_seconds,
                               expires_in_seconds=sent.expires_in_seconds), 202


@bp.post("/numbers/<int:number_id>/verification/check")
@merchant_required
@operation(body=CodeCheck, responses={200: NumberForOwner}, errors=(409,), tags=("merchants",))
def check_code(number_id: int, body: CodeCheck):
    """Check the code the number received; the number is verified on success."""
    number = operations.owned_number(number_id, current_user.id)
    operations.confirm_verification(get_gateway(), number, body.code, requester(), policy(),
                                    current_app.config["VERIFICATION_LAPSE_DAYS"])
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return NumberForOwner.of(number)


def _embed_editable(merchant_id: int) -> Merchant:
    """The store, for its owner or for the integration client (scope `merchants`) that imported
    it; anyone else's store is a 404."""
    client = current_client()
    if client is not None:
        require_scope(client, "merchants")
        return embed.editable_by(merchant_id, client_id=client.id)
    if not current_user.is_authenticated:
        raise Unauthorized("unauthorized")
    if not current_user.is_merchant:
        raise Forbidden("forbidden.needs_merchant")
    return embed.editable_by(merchant_id, owner_id=current_user.id)


EMBED_SECURITY = ("userToken", "session", "clientKey")


@bp.get("/merchants/<int:merchant_id>/embed-origins")
@operation(responses={200: EmbedOrigins}, errors=(401, 403, 404), security=EMBED_SECURITY,
           tags=("merchants",))
def show_embed_origins(merchant_id: int):
    """The sites that may embed the store's callback button (docs/embed.md)."""
    merchant = _embed_editable(merchant_id)
    return EmbedOrigins(merchant_id=merchant.id, origins=embed.embed_origins(merchant))


@bp.put("/merchants/<int:merchant_id>/embed-origins")
@operation(body=EmbedOriginsUpdate, responses={200: EmbedOrigins}, errors=(401, 403, 404),
           security=EMBED_SECURITY, tags=("merchants",))
def replace_embed_origins(merchant_id: int, body: EmbedOriginsUpdate):
    """Replace the list of sites that may embed the store's callback button."""
    merchant = _embed_editable(merchant_id)
    origins = embed.set_embed_origins(merchant, body.origins,
                                      allow_http_localhost=current_app.config["REGISTRY_ENV"] != "production")
    return EmbedOrigins(merchant_id=merchant.id, origins=origins)
