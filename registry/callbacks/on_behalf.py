"""Callbacks an integration client asks for on a shopper's behalf (`POST /api/v1/callbacks`).

The marketplace proved the shopper's number, so the client vouches for it: the shopper is
found by it, or created as vouched for by the client (`shoppers.asserted_shopper`), and the
request is made by the very operation a shopper's own request goes through
(`operations.request_callback`): the store's and the shopper's hours, the limits per shopper,
one open request per pair, a blocked shopper refused. The request records the client, which
alone of the clients may read or cancel it (`operations.visible_request`).
"""

from __future__ import annotations

from registry.callbacks import operations
from registry.callbacks.models import CallbackRequest
from registry.core.phones import parse_phone
from registry.merchants.operations import merchant_for_client
from registry.shoppers.operations import asserted_shopper

CANCELED_BY_CLIENT = "canceled by the client"


def request_for_client(client_id: int, *, merchant_id: int | None, merchant_external_id: str | None,
                       shopper_phone: object, when: object, order_ref: object, note: object,
                       policy: operations.CallbackPolicy, default_region: str) -> CallbackRequest:
    """The client's callback request for the shopper with `shopper_phone` and the named store."""
    phone = parse_phone(shopper_phone, default_region, field="shopper_phone")
    merchant = merchant_for_client(client_id, merchant_id, merchant_external_id)
    shopper = asserted_shopper(phone, client_id)
    return operations.request_callback(shopper, merchant.id, when, order_ref, note, policy,
                                       client_id=client_id)


def cancel_for_client(client_id: int, request_id: int) -> CallbackRequest:
    """Cancel the client's request (another client's is 404), as a shopper cancels theirs."""
    request = operations.visible_request(request_id, client_id=client_id)
    return operations.cancel(request, CANCELED_BY_CLIENT)
