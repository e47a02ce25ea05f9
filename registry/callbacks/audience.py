"""Which integration clients own what a webhook event is about, for `WEBHOOK_AUDIENCE=owner`.

A client owns a store it imported (`merchants.client_id`), a binding it made and a callback it
asked for (`client_id` of each): the objects the API lets it read. An event's data names its
objects by `merchant_id`, `binding_id`, `callback_id` and `call_record_id` (a leg, which stands
for its store, binding and callback); the owners of any of them hear it.
Registered with the outbox by the app factory (`webhooks.events.on_audience`): this layer knows
the stores, bindings and callbacks, the outbox below it does not.
"""

from __future__ import annotations

from registry.callbacks.models import CallbackRequest
from registry.calllog.models import CallRecord
from registry.core.extensions import db
from registry.masking.models import Binding
from registry.merchants.models import Merchant

_OWNED_BY_ID = (("merchant_id", Merchant), ("binding_id", Binding), ("callback_id", CallbackRequest))


def owners_of(data: dict) -> set[int]:
    """The ids of the clients owning the objects `data` names (empty: no client owns them).

    An event about a call leg (`call_record_id`: a recording, a complaint) is also about what
    the leg was part of, named or not: its store, its binding, its callback."""
    named = {key: {data.get(key)} for key, _ in _OWNED_BY_ID}
    record_id = data.get("call_record_id")
    record = db.session.get(CallRecord, record_id) if _is_id(record_id) else None
    if record is not None:
        named["merchant_id"].add(record.merchant_id)
        named["binding_id"].add(record.binding_id)
        named["callback_id"].add(record.callback_request_id)
    owners = set()
    for key, model in _OWNED_BY_ID:
        for object_id in filter(_is_id, named[key]):
            row = db.session.get(model, object_id)
            if row is not None and row.client_id is not None:
                owners.add(row.client_id)
    return owners


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
