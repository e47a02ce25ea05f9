"""Which integration clients own what a webhook event is about, for `WEBHOOK_AUDIENCE=owner`.

A client owns a store it imported (`merchants.client_id`), a binding it made and a callback it
asked for (`client_id` of each): the objects the API lets it read. An event's data names its
objects by `merchant_id`, `binding_id` and `callback_id`; the owners of any of them hear it.
Registered with the outbox by the app factory (`webhooks.events.on_audience`): this layer knows
the stores, bindings and callbacks, the outbox below it does not.
"""

from __future__ import annotations

from registry.callbacks.models import CallbackRequest
from registry.core.extensions import db
from registry.masking.models import Binding
from registry.merchants.models import Merchant

_OWNED_BY_ID = (("merchant_id", Merchant), ("binding_id", Binding), ("callback_id", CallbackRequest))


def owners_of(data: dict) -> set[int]:
    """The ids of the clients owning the objects `data` names (empty: no client owns them)."""
    owners = set()
    for key, model in _OWNED_BY_ID:
        object_id = data.get(key)
        row = db.session.get(model, object_id) if isinstance(object_id, int) else None
        if row is not None and row.client_id is not None:
            owners.add(row.client_id)
    return owners
