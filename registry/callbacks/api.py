"""JSON API: asking for a callback, following it, cancelling it."""

from flask import Blueprint, current_app
from flask_login import current_user

from registry.callbacks import on_behalf, operations
from registry.callbacks.schemas import Callback, NewCallback, Slot, Slots
from registry.callbacks.serialize import callback
from registry.core.errors import Unauthorized
from registry.core.extensions import db
from registry.core.openapi import operation
from registry.integrations.auth import current_client
from registry.integrations.operations import require_scope
from registry.merchants.operations import get_merchant
from registry.shoppers.auth import current_shopper, shopper_required

bp = Blueprint("callbacks_api", __name__, url_prefix="/api/v1")


def policy() -> operations.CallbackPolicy:
    return operations.CallbackPolicy.from_config(current_app.config)


def shown(request) -> Callback:
    """The request, with `waiting_reason`: why a scheduled call waits, if it does."""
    waiting = operations.request_waiting(request, policy())
    return callback(request, waiting.code if waiting else None)


@bp.post("/merchants/<int:merchant_id>/callbacks")
@shopper_required
@operation(body=NewCallback, responses={201: Callback}, errors=(403, 409), tags=("callbacks",))
def create(merchant_id: int, body: NewCallback):
    """Ask the store to call the shopper back, as soon as possible or in a slot."""
    request = operations.request_callback(current_shopper(), merchant_id, body.when,
                                          body.order_ref, body.note, policy())
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return shown(request), 201


@bp.get("/merchants/<int:merchant_id>/callback-slots")
@shopper_required
@operation(responses={200: Slots}, tags=("callbacks",))
def slots(merchant_id: int):
    """The slots the shopper may pick, in the next days (empty, with why, when none)."""
    merchant = get_merchant(merchant_id)
    reason = operations.unavailable_reason(merchant)
    items = [] if reason else operations.offered_slots(merchant, current_shopper(), policy())
    return Slots(items=[Slot(start=s, end=e) for s, e in items], next=None,
                 unavailable_reason=reason, shopper_timezone=current_shopper().timezone)


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
@operation(responses={200: Callback}, errors=(401,), tags=("callbacks",),
           security=("shopperToken", "userToken", "session", "clientKey"))
def show(request_id: int):
    """A callback request: the shopper who asked, the store's owner, staff, or the integration
    client that made it."""
    return shown(_visible(request_id))


@bp.delete("/callbacks/<int:request_id>")
@operation(responses={200: Callback}, errors=(404, 409), tags=("callbacks",),
           security=("shopperToken", "session", "clientKey"))
def cancel(request_id: int):
    """Cancel a request while it has not been called yet: its shopper, or the integration client
    that made it (scope `callbacks`)."""
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
    return shown(request)
