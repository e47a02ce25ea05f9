"""Bindings by order: what an integration client asks of masking (`/api/v1/bindings`).

A marketplace pairs a shopper it knows (it proved the number; the client vouches for it, no
code is sent) with a store for an order, and shows the shopper the proxy number. The binding
is made by the one allocation operation every binding comes from (`allocation.allocate_pair`:
the same first-fit choice, the same uniqueness), between the store's verified number (party A,
as for a callback) and the shopper's (party B). The same pair again gets the same binding and
proxy number, its expiry extended.

A binding belongs to the client that asked for it (`Binding.client_id`): only that client reads,
lists or ends it. The pair's active binding made by the platform itself (a shopper's callback)
is taken over by the first client that asks for the pair; one another client holds is refused
(409) rather than shared, since a binding has one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from registry.core import cursors
from registry.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from registry.core.extensions import db
from registry.core.phones import parse_phone
from registry.core.timeutil import as_utc, utcnow
from registry.masking.allocation import PoolExhausted, allocate_pair, end_binding
from registry.masking.models import Binding
from registry.merchants.models import Merchant
from registry.merchants.operations import merchant_for_client, verified_number
from registry.shoppers.operations import is_blocked_number

ENDED_BY_CLIENT = "ended by client"
EXPIRED = "expired"
STATUSES = ("active", "ended")
# How long a client waits before asking again when no proxy number can take the pair.
POOL_RETRY_SECONDS = 60


@dataclass(frozen=True)
class BindingPolicy:
    default_ttl_hours: int = 72
    max_ttl_hours: int = 720
    default_cap: int = 200
    default_region: str = "CN"

    @classmethod
    def from_config(cls, config) -> BindingPolicy:
        return cls(default_ttl_hours=config["BINDING_TTL_HOURS"],
                   max_ttl_hours=config["BINDING_MAX_TTL_HOURS"], default_cap=config["PROXY_NUMBER_CAP"],
                   default_region=config["DEFAULT_REGION"])


def _ttl(ttl_hours: int | None, policy: BindingPolicy) -> timedelta:
    if ttl_hours is None:
        return timedelta(hours=policy.default_ttl_hours)
    if ttl_hours < 1:
        raise InvalidInput("invalid.too_small", field="ttl_hours", name="ttl_hours", limit=1)
    if ttl_hours > policy.max_ttl_hours:
        raise InvalidInput("invalid.too_large", field="ttl_hours", name="ttl_hours",
                           limit=policy.max_ttl_hours)
    return timedelta(hours=ttl_hours)


def _party_a(merchant: Merchant):
    """The store's number the binding connects: its verified one (the masking rule)."""
    if merchant.status != "active":
        raise Conflict("binding_unavailable.store_suspended")
    number = verified_number(merchant)
    if number is None:
        if any(n.status == "suspended" for n in merchant.numbers):
            raise Conflict("binding_unavailable.number_suspended")
        raise Conflict("binding_unavailable.no_verified_number")
    return number


def bind_for_client(client_id: int, *, merchant_id: int | None, merchant_external_id: str | None,
                    shopper_phone: object, order_ref: str | None, ttl_hours: int | None,
                    policy: BindingPolicy, now: datetime | None = None) -> tuple[Binding, bool]:
    """The client's binding of the shopper and the store: `(binding, created)`.

    New: a proxy number is allocated. The pair's binding already: its expiry is extended (to
    `ttl_hours` from now, never shortened) and a given `order_ref` replaces the one it had.
    """
    now = now or utcnow()
    ttl = _ttl(ttl_hours, policy)
    phone = parse_phone(shopper_phone, policy.default_region, field="shopper_phone")
    merchant = merchant_for_client(client_id, merchant_id, merchant_external_id)
    number = _party_a(merchant)
    if phone.e164 == number.e164:
        raise InvalidInput("invalid.shopper_is_store", field="shopper_phone")
    if is_blocked_number(phone.e164):
        raise Forbidden("shopper_blocked.binding", field="shopper_phone")
    try:
        binding, created = allocate_pair(number.e164, phone.e164, ttl=ttl, default_cap=policy.default_cap,
                                         country=number.region, merchant_id=merchant.id, client_id=client_id,
                                         order_ref=order_ref, now=now)
    except PoolExhausted:
        raise ServiceUnavailable("pool_exhausted", POOL_RETRY_SECONDS) from None
    if not created:
        if binding.client_id is not None and binding.client_id != client_id:
            raise Conflict("conflict.binding_other_client")
        binding.client_id = client_id
        if order_ref is not None:
            binding.order_ref = order_ref
        db.session.flush()
    return binding, created


def status_of(binding: Binding, now: datetime | None = None) -> str:
    """`active` until it is ended or its expiry passes (the sweep may not have ended it yet)."""
    if binding.ended_at is None and as_utc(binding.expires_at) > (now or utcnow()):
        return "active"
    return "ended"


def client_binding(client_id: int, binding_id: int) -> Binding:
    """The client's binding; another client's, or none, is 404 alike."""
    binding = db.session.get(Binding, binding_id)
    if binding is None or binding.client_id != client_id:
        raise NotFound("not_found.binding")
    return binding


def end_for_client(client_id: int, binding_id: int, now: datetime | None = None) -> Binding:
    """End the client's binding now: its proxy number stops connecting the pair (a call from
    either is intercepted and logged, as for any caller without a binding). Ending an ended
    binding changes nothing."""
    now = now or utcnow()
    binding = client_binding(client_id, binding_id)
    if binding.ended_at is None:
        expired = as_utc(binding.expires_at) <= now
        end_binding(binding, EXPIRED if expired else ENDED_BY_CLIENT, now)
    return binding


@dataclass(frozen=True)
class BindingFilter:
    order_ref: str | None = None
    merchant_id: int | None = None
    status: str | None = None
    cursor: str | None = None
    per_page: int = 25


def list_for_client(client_id: int, criteria: BindingFilter,
                    now: datetime | None = None) -> tuple[list[Binding], str | None]:
    """The client's bindings matching `criteria`, newest first: `(page, next cursor)`."""
    now = now or utcnow()
    query = select(Binding).where(Binding.client_id == client_id)
    if criteria.order_ref is not None:
        query = query.where(Binding.order_ref == criteria.order_ref)
    if criteria.merchant_id is not None:
        query = query.where(Binding.merchant_id == criteria.merchant_id)
    if criteria.status == "active":
        query = query.where(Binding.ended_at.is_(None), Binding.expires_at > now)
    elif criteria.status == "ended":
        query = query.where(or_(Binding.ended_at.is_not(None), Binding.expires_at <= now))
    return cursors.page(query, Binding.id, "b", criteria.cursor, criteria.per_page)
