"""Buying proxy numbers from Twilio and giving them back: search, buy, release.

Twilio is asked first and the pool written after, in the caller's
transaction: a purchase Twilio refuses (the number is gone, 21422) leaves no
row; a release happens at Twilio only once the number holds no active
binding, and the row stays (`released`) for the bindings and calls that
name it.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from registry.core.errors import Conflict, InvalidInput, ProviderUnavailable
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.masking import pool
from registry.masking.models import RELEASED, ProxyNumber
from registry.telephony import (
    NUMBER_NOT_AVAILABLE,
    AvailableNumber,
    ProviderError,
    TelephonyGateway,
)

KINDS = ("local", "mobile")
COUNTRY = re.compile(r"^[A-Z]{2}$")
AREA_CODE = re.compile(r"^[0-9]{1,5}$")
# Twilio's Contains: digits, letters (as on a keypad) and `*` for any one digit.
CONTAINS = re.compile(r"^[0-9A-Za-z*]{1,16}$")
NOT_FOUND = 20404


def webhook_urls(public_base_url: str) -> dict[str, str]:
    """Where a proxy number's calls, texts and call statuses go (as `proxy sync` sets them)."""
    base = public_base_url.rstrip("/")
    return {"voice_url": f"{base}/webhooks/twilio/voice/incoming",
            "sms_url": f"{base}/webhooks/twilio/sms/incoming",
            "status_callback": f"{base}/webhooks/twilio/voice/status"}


def check_search(country: object, kind: object = "local", area_code: object = None,
                 contains: object = None) -> tuple[str, str, int | None, str | None]:
    """The search's terms, checked: (country, kind, area code, contains)."""
    country = country.strip().upper() if isinstance(country, str) else country
    if not isinstance(country, str) or not COUNTRY.match(country):
        raise InvalidInput("invalid.pool_country_format", field="country")
    kind = "local" if kind is None or kind == "" else kind
    if kind not in KINDS:
        raise InvalidInput("invalid.choice", field="type", name="type", values=", ".join(KINDS))
    area_code = area_code.strip() if isinstance(area_code, str) else area_code
    if area_code in (None, ""):
        area = None
    elif isinstance(area_code, str) and AREA_CODE.match(area_code):
        area = int(area_code)
    else:
        raise InvalidInput("invalid.pool_area_code", field="area_code")
    contains = contains.strip() if isinstance(contains, str) else contains
    if contains in (None, ""):
        contains = None
    elif not isinstance(contains, str) or not CONTAINS.match(contains):
        raise InvalidInput("invalid.pool_contains", field="contains")
    return country, kind, area, contains


def search(gateway: TelephonyGateway, country: object, kind: object = "local", *, area_code: object = None,
           contains: object = None, limit: int = 20) -> list[AvailableNumber]:
    """Numbers Twilio would sell now, taking calls and texts, not already in the pool."""
    country, kind, area, contains = check_search(country, kind, area_code, contains)
    try:
        found = gateway.search_numbers(country, kind, area_code=area, contains=contains, limit=limit)
    except ProviderError as exc:
        if exc.status == 404 or exc.code == NOT_FOUND:
            # Twilio does not sell numbers of that country (or of that type there).
            raise InvalidInput("invalid.pool_country", field="country", country=country, type=kind) from None
        raise ProviderUnavailable("provider_unavailable.numbers") from None
    owned = set(db.session.scalars(select(ProxyNumber.e164).where(
        ProxyNumber.e164.in_([n.phone_number for n in found]), ProxyNumber.status != RELEASED)))
    return [n for n in found if n.phone_number not in owned]


def buy(gateway: TelephonyGateway, raw: object, public_base_url: str, *, origin: str = "staff",
        field: str = "phone_number") -> ProxyNumber:
    """Buy the number from Twilio with our webhooks set and put it in the pool."""
    e164, _ = pool.parse_proxy(raw, field)
    existing = db.session.scalar(select(ProxyNumber).where(ProxyNumber.e164 == e164))
    if existing is not None and existing.status != RELEASED:
        raise Conflict("conflict.in_pool", field=field, number=e164, id=existing.id, status=existing.status)
    try:
        bought = gateway.buy_number(e164, **webhook_urls(public_base_url))
    except ProviderError as exc:
        if exc.code == NUMBER_NOT_AVAILABLE:
            raise Conflict("conflict.number_unavailable", field=field, number=e164) from None
        if exc.status in (400, 404):
            raise InvalidInput("invalid.pool_purchase", field=field, number=e164, detail=str(exc)) from None
        raise ProviderUnavailable("provider_unavailable.numbers") from None
    return pool.add_proxy_number(bought.phone_number, provider_sid=bought.sid, origin=origin, field=field,
                                 voice=bought.voice, sms=bought.sms)


def release(gateway: TelephonyGateway, proxy: ProxyNumber) -> ProxyNumber:
    """Give the number back to Twilio; refused while any binding on it is active.

    The row is locked first, so no allocation adds a binding meanwhile (PostgreSQL:
    allocation passes over locked numbers, and then finds it released)."""
    if proxy.status == RELEASED:
        raise Conflict("conflict.pool_released", number=proxy.e164, id=proxy.id, status=proxy.status)
    db.session.execute(select(ProxyNumber.id).where(ProxyNumber.id == proxy.id).with_for_update())
    active = pool.active_bindings_of(proxy.id)
    if active:
        raise Conflict("conflict.pool_bindings_active", number=proxy.e164, id=proxy.id, count=active)
    proxy.status, proxy.released_at = RELEASED, utcnow()
    proxy.retired_at = proxy.retired_at or proxy.released_at
    db.session.flush()
    try:
        sid = proxy.provider_sid or gateway.find_incoming_number(proxy.e164)
        if sid is not None:
            gateway.release_number(sid)
    except ProviderError as exc:
        if exc.code != NOT_FOUND:  # already gone from the account: released all the same
            raise ProviderUnavailable("provider_unavailable.numbers") from None
    return proxy
