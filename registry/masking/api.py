"""JSON API: the proxy pool, for admins (a user bearer token, or the session, of an admin).

The same operations as the staff console's pool page, audited the same way:
list the numbers, search what Twilio sells, buy, drain, release.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from registry.accounts.auth import admin_required
from registry.audit.operations import audit
from registry.core import cursors
from registry.core.openapi import ApiModel, Page, Timestamp, checked_by_operation, operation
from registry.masking import pool, provisioning
from registry.masking.models import ProxyNumber
from registry.telephony import AvailableNumber, get_gateway

bp = Blueprint("pool_api", __name__, url_prefix="/api/v1")
TAGS = ("proxy pool",)


class ProxyNumberShown(ApiModel):
    """A platform-owned proxy number (not personal data: shown in full)."""

    id: int
    phone_number: str
    country: str
    status: Literal["active", "draining", "released"]
    shared: bool = Field(description="Carries extension-mode bindings only.")
    voice: bool
    sms: bool
    active_bindings: int
    cap: int = Field(description="Most active bindings (its own cap, else PROXY_NUMBER_CAP).")
    origin: str | None = Field(description="cli, staff or auto (bought by the scheduler); null if older.")
    created_at: Timestamp
    draining_since: Timestamp | None
    released_at: Timestamp | None

    @classmethod
    def of(cls, proxy: ProxyNumber, default_cap: int) -> ProxyNumberShown:
        return cls(id=proxy.id, phone_number=proxy.e164, country=proxy.country, status=proxy.status,
                   shared=proxy.shared, voice=proxy.voice, sms=proxy.sms,
                   active_bindings=proxy.active_bindings,
                   cap=proxy.capacity(default_cap), origin=proxy.origin, created_at=proxy.created_at,
                   draining_since=proxy.retired_at, released_at=proxy.released_at)


class PoolListQuery(ApiModel):
    cursor: str | None = Field(None, description="The `next` of the previous page.")
    per_page: int | None = Field(None, ge=1, le=1000)


class NumberSearch(ApiModel):
    """What to look for: a country (ISO 3166 alpha-2), local or mobile, digits it contains."""

    country: checked_by_operation({"type": "string", "pattern": "^[A-Za-z]{2}$", "examples": ["US"]})
    type: checked_by_operation({"type": "string", "enum": list(provisioning.KINDS), "default": "local"},
                               optional=True) = None
    area_code: checked_by_operation({"type": "string", "pattern": "^[0-9]{1,5}$"}, optional=True) = None
    contains: checked_by_operation({"type": "string", "pattern": "^[0-9A-Za-z*]{1,16}$"},
                                   optional=True) = None


class AvailableNumberShown(ApiModel):
    """A number Twilio would sell now."""

    phone_number: str
    friendly_name: str
    country: str
    locality: str | None
    region: str | None
    voice: bool
    sms: bool

    @classmethod
    def of(cls, n: AvailableNumber) -> AvailableNumberShown:
        return cls(phone_number=n.phone_number, friendly_name=n.friendly_name, country=n.country,
                   locality=n.locality, region=n.region, voice=n.voice, sms=n.sms)


class Purchase(ApiModel):
    phone_number: checked_by_operation({"type": "string", "maxLength": 64, "examples": ["+14155550142"]})


def _shown(proxy: ProxyNumber) -> ProxyNumberShown:
    return ProxyNumberShown.of(proxy, current_app.config["PROXY_NUMBER_CAP"])


@bp.get("/proxy-numbers")
@admin_required
@operation(query=PoolListQuery, responses={200: Page[ProxyNumberShown]}, tags=TAGS)
def list_proxy_numbers(query: PoolListQuery):
    """Every proxy number, in id order, with its state and load."""
    per_page = min(query.per_page or 100, current_app.config["API_MAX_PER_PAGE"])
    rows, following = cursors.page(select(ProxyNumber), ProxyNumber.id, "p", query.cursor, per_page,
                                   ascending=True)
    return Page[ProxyNumberShown](items=[_shown(p) for p in rows], next=following)


@bp.post("/proxy-numbers/search")
@admin_required
@operation(body=NumberSearch, responses={200: Page[AvailableNumberShown]}, errors=(503,), tags=TAGS)
def search_numbers(body: NumberSearch):
    """Numbers Twilio sells now in a country (voice and SMS), not already in the pool."""
    found = provisioning.search(get_gateway(), body.country, body.type, area_code=body.area_code,
                                contains=body.contains)
    return Page[AvailableNumberShown](items=[AvailableNumberShown.of(n) for n in found], next=None)


@bp.post("/proxy-numbers")
@admin_required
@operation(body=Purchase, responses={201: ProxyNumberShown}, errors=(409, 503), tags=TAGS)
def buy_number(body: Purchase):
    """Buy a number from Twilio, its webhooks pointed at this server, into the pool."""
    proxy = provisioning.buy(get_gateway(), body.phone_number, current_app.config["PUBLIC_BASE_URL"])
    audit(current_user.id, "pool_buy", f"proxy_number:{proxy.id}", None,
          {"number": proxy.e164, "sid": proxy.provider_sid})
    return _shown(proxy), 201


@bp.post("/proxy-numbers/<int:proxy_id>/drain")
@admin_required
@operation(responses={200: ProxyNumberShown}, errors=(404, 409), tags=TAGS)
def drain_number(proxy_id: int):
    """Stop giving the number new bindings; its active ones live out their TTL."""
    proxy = pool.drain(pool.get_proxy(proxy_id))
    audit(current_user.id, "pool_drain", f"proxy_number:{proxy.id}", None, {"number": proxy.e164})
    return _shown(proxy)


@bp.delete("/proxy-numbers/<int:proxy_id>")
@admin_required
@operation(responses={200: ProxyNumberShown}, errors=(404, 409, 503), tags=TAGS)
def release_number(proxy_id: int):
    """Release the number to Twilio; refused (409, with the count) while bindings are active."""
    proxy = provisioning.release(get_gateway(), pool.get_proxy(proxy_id))
    audit(current_user.id, "pool_release", f"proxy_number:{proxy.id}", None, {"number": proxy.e164})
    return _shown(proxy)

