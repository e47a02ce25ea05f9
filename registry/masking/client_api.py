"""JSON API for integration clients: bindings by order (scope `bindings`)."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app
from pydantic import Field

from registry.core.openapi import ApiModel, Page, Text, Timestamp, operation
from registry.core.phones import mask
from registry.core.urls import LARGEST_ID
from registry.integrations.auth import client_required, current_client
from registry.integrations.idempotency import idempotent
from registry.masking import bindings
from registry.masking.models import Binding
from registry.merchants.schemas import StoreReference

bp = Blueprint("bindings_api", __name__, url_prefix="/api/v1")


class BindingRequest(StoreReference):
    """Pair a shopper the marketplace knows with a store, for an order. Name the store by
    `merchant_id` or by your own `merchant_external_id` (one of them)."""

    shopper_phone: str = Field(description="The shopper's number, which the marketplace has proved "
                               "(E.164, or national for DEFAULT_REGION).")
    order_ref: Text(64) | None = None
    ttl_hours: int | None = Field(None, ge=1, description="Hours the binding lives (from now, each "
                                  "time it is asked for again); default BINDING_TTL_HOURS, at most "
                                  "BINDING_MAX_TTL_HOURS.")


class BindingOut(ApiModel):
    """A binding: the proxy number (and extension, on a shared number) the shopper calls to
    reach the store; the shopper's number masked."""

    id: int
    proxy_number: str = Field(description="The platform's number, E.164, to show the shopper.")
    extension: str | None = Field(description="On a shared proxy number, the 4 digits the caller types; "
                                  "else null.")
    merchant_id: int | None
    shopper_phone: str = Field(description="Masked (+86 137****7000).")
    order_ref: str | None
    status: Literal["active", "ended"]
    created_at: Timestamp
    expires_at: Timestamp
    ended_at: Timestamp | None
    end_reason: str | None = Field(description="Why it ended: `ended by client`, `expired`, ...")


class BindingQuery(ApiModel):
    order_ref: str | None = Field(None, max_length=64)
    merchant_id: int | None = Field(None, ge=1, le=LARGEST_ID)
    status: Literal["active", "ended"] | None = None
    cursor: str | None = Field(None, max_length=100)
    per_page: int = Field(25, ge=1, le=100)


def shown(binding: Binding) -> BindingOut:
    ended_at = binding.ended_at
    status = bindings.status_of(binding)
    return BindingOut(
        id=binding.id, proxy_number=binding.proxy_number.e164, extension=binding.extension,
        merchant_id=binding.merchant_id, shopper_phone=mask(binding.party_b),
        order_ref=binding.order_ref, status=status, created_at=binding.created_at,
        expires_at=binding.expires_at, ended_at=ended_at,
        end_reason=binding.end_reason or (bindings.EXPIRED if status == "ended" else None))


def _policy() -> bindings.BindingPolicy:
    return bindings.BindingPolicy.from_config(current_app.config)


@bp.post("/bindings")
@client_required("bindings")
@idempotent
@operation(body=BindingRequest, responses={201: BindingOut, 200: BindingOut}, errors=(403, 404, 409),
           tags=("bindings",))
def create_binding(body: BindingRequest):
    """Bind a shopper and a store for an order: 201 new, 200 the pair's binding (expiry extended).

    409 when the store cannot be reached (suspended, no verified number) or another client holds
    the pair's binding; 503 with Retry-After when no proxy number can take the pair now.
    """
    binding, created = bindings.bind_for_client(
        current_client().id, merchant_id=body.merchant_id, merchant_external_id=body.merchant_external_id,
        shopper_phone=body.shopper_phone, order_ref=body.order_ref, ttl_hours=body.ttl_hours,
        policy=_policy())
    return shown(binding), 201 if created else 200


@bp.get("/bindings/<int:binding_id>")
@client_required("bindings")
@operation(responses={200: BindingOut}, tags=("bindings",))
def show_binding(binding_id: int):
    """One of your bindings (another client's is 404)."""
    return shown(bindings.client_binding(current_client().id, binding_id))


@bp.get("/bindings")
@client_required("bindings")
@operation(query=BindingQuery, responses={200: Page[BindingOut]}, tags=("bindings",))
def list_bindings(query: BindingQuery):
    """Your bindings, newest first, by order reference, store or status; paged by `cursor`."""
    criteria = bindings.BindingFilter(order_ref=query.order_ref, merchant_id=query.merchant_id,
                                      status=query.status, cursor=query.cursor,
                                      per_page=min(query.per_page, current_app.config["API_MAX_PER_PAGE"]))
    rows, cursor = bindings.list_for_client(current_client().id, criteria)
    return Page[BindingOut](items=[shown(b) for b in rows], next=cursor)


@bp.delete("/bindings/<int:binding_id>")
@client_required("bindings")
@operation(responses={204: None}, tags=("bindings",))
def end_binding(binding_id: int):
    """End one of your bindings now: a call to its proxy number from either party is then
    intercepted (and logged). Ending an ended binding is no error."""
    bindings.end_for_client(current_client().id, binding_id)
    return None, 204
