"""The callback events sent to webhooks (`callback.*`), emitted in the transaction of the
change of status. The payload names the request, its store and order; never a phone number."""

from __future__ import annotations

from registry.callbacks.models import CallbackRequest
from registry.webhooks.events import emit, iso


def callback_data(request: CallbackRequest) -> dict:
    return {"callback_id": request.id, "merchant_id": request.merchant_id, "order_ref": request.order_ref,
            "status": request.status, "reason": request.reason, "asap": request.asap,
            "due_at": iso(request.due_at), "window_start": iso(request.window_start),
            "window_end": iso(request.window_end), "ended_at": iso(request.ended_at)}


def notify(request: CallbackRequest) -> None:
    """Emit `callback.<status>` for the request's status now (one of the fixed event names)."""
    event_type = f"callback.{request.status}"
    if event_type in _SENT:
        emit(event_type, callback_data(request))


_SENT = {"callback.scheduled", "callback.calling", "callback.completed", "callback.failed",
         "callback.expired", "callback.canceled"}
