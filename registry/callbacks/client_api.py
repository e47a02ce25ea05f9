"""JSON API for integration clients: callbacks on a shopper's behalf (scope `callbacks`).

`POST /api/v1/callbacks` is here; reading and cancelling the request are the routes every
party uses (`api.show`, `api.cancel`), which admit the client that asked for it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import Field

from registry.callbacks import on_behalf, operations
from registry.callbacks.serialize import callback
from registry.core.openapi import ApiModel, operation
from registry.core.urls import LARGEST_ID
from registry.integrations.auth import client_required, current_client

bp = Blueprint("callbacks_client_api", __name__, url_prefix="/api/v1")

WHEN_SCHEMA = {"oneOf": [
    {"type": "string", "enum": ["asap"]},
    {"type": "object", "required": ["start"], "additionalProperties": False,
     "properties": {"start": {"type": "string", "format": "date-time"},
                    "end": {"type": ["string", "null"], "format": "date-time"}}},
    {"type": "null"}]}


class CallbackOnBehalf(ApiModel):
    """Ask for a callback for a shopper the marketplace knows. Name the store by `merchant_id` or
    by your own `merchant_external_id` (one of them)."""

    merchant_id: int | None = Field(None, ge=1, le=LARGEST_ID)
    merchant_external_id: str | None = Field(None, min_length=1, max_length=100)
    shopper_phone: str = Field(description="The shopper's number, which the marketplace has proved.")
    when: Any = Field(None, json_schema_extra=WHEN_SCHEMA,
                      description='"asap" (the default) or a slot {"start", "end"}, ISO 8601 with an offset.')
    order_ref: str | None = None
    note: str | None = None


class CallbackWindow(ApiModel):
    start: str | None
    end: str | None


class CallbackAttemptOut(ApiModel):
    number: int
    state: str
    outcome: str | None
    phase: str | None
    started_at: str | None
    ended_at: str | None
    calls: list[dict[str, Any]] = Field(description="The attempt's call legs, numbers masked.")


class CallbackOut(ApiModel):
    """A callback request, as its shopper sees it (`GET /api/v1/callbacks/{id}`)."""

    id: int
    merchant_id: int
    status: str
    due_at: str | None
    asap: bool
    window: CallbackWindow
    order_ref: str | None
    note: str | None
    reason: str | None
    attempts: list[CallbackAttemptOut]
    created_at: str | None
    ended_at: str | None
    call_phase: str | None
    waiting_reason: str | None


def _policy() -> operations.CallbackPolicy:
    return operations.CallbackPolicy.from_config(current_app.config)


def shown(request) -> dict:
    waiting = operations.request_waiting(request, _policy())
    return callback(request, waiting.code if waiting else None)


@bp.post("/callbacks")
@client_required("callbacks")
@operation(body=CallbackOnBehalf, responses={201: CallbackOut}, errors=(403, 404, 409),
           tags=("callbacks",))
def create_callback(body: CallbackOnBehalf):
    """Ask for a callback on a shopper's behalf: the rules of a shopper's own request apply
    (calling hours, limits, one open request per shopper and store; a blocked shopper is 403)."""
    request = on_behalf.request_for_client(
        current_client().id, merchant_id=body.merchant_id, merchant_external_id=body.merchant_external_id,
        shopper_phone=body.shopper_phone, when=body.when, order_ref=body.order_ref, note=body.note,
        policy=_policy(), default_region=current_app.config["DEFAULT_REGION"])
    return shown(request), 201
