"""The proxy pool: adding, syncing with Twilio, draining, and its pressure.

Buying and releasing through Twilio are `masking.provisioning`'s; the pool's
figures per country and the low-capacity check `masking.capacity`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select, union_all

from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.phones import PhoneError, parse_phone
from registry.core.timeutil import utcnow
from registry.masking.models import ACTIVE_STATUS, DRAINING, RELEASED, Binding, ProxyNumber
from registry.telephony import TelephonyGateway


def parse_proxy(raw: str, field: str = "number") -> tuple[str, str]:
    """(E.164, country) of a proxy number as typed; refused unless it is E.164 and valid."""
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        raise InvalidInput("invalid.pool_format", field=field, number=repr(raw))
    try:
        phone = parse_phone(raw, field=field)
    except PhoneError as exc:
        # The phone refusal goes along as a key (`problem`) and is worded with the pool's.
        raise InvalidInput("invalid.pool_number", field=field, **exc.params, number=repr(raw),
                           problem=exc.key) from None
    return phone.e164, phone.region


def add_proxy_number(raw: str, *, shared: bool = False, cap: int | None = None,
                     provider_sid: str | None = None, origin: str = "cli", field: str = "number",
                     voice: bool = True, sms: bool = True) -> ProxyNumber:
    """Put a number the platform owns into the pool (again, if it was released)."""
    e164, country = parse_proxy(raw, field)
    if cap is not None and cap < 1:
        raise InvalidInput("invalid.pool_cap", field="cap")
    proxy = db.session.scalar(select(ProxyNumber).where(ProxyNumber.e164 == e164))
    if proxy is not None and proxy.status != RELEASED:
        raise Conflict("conflict.in_pool", field=field, number=e164)
    if proxy is None:
        proxy = ProxyNumber(e164=e164, country=country)
        db.session.add(proxy)
    proxy.status, proxy.retired_at, proxy.released_at = ACTIVE_STATUS, None, None
    proxy.shared, proxy.cap, proxy.provider_sid, proxy.origin = shared, cap, provider_sid, origin
    proxy.voice, proxy.sms, proxy.created_at, proxy.has_room = voice, sms, utcnow(), True
    db.session.flush()
    return proxy


def sync_with_provider(gateway: TelephonyGateway, public_base_url: str) -> list[ProxyNumber]:
    """Point every account number's webhooks at the app; add unknown ones to the pool."""
    voice = f"{public_base_url}/webhooks/twilio/voice/incoming"
    sms = f"{public_base_url}/webhooks/twilio/sms/incoming"
    status = f"{public_base_url}/webhooks/twilio/voice/status"
    synced = []
    for number in gateway.list_incoming_numbers():
        gateway.configure_incoming_number(number["sid"], voice, sms, status)
        proxy = db.session.scalar(select(ProxyNumber).where(ProxyNumber.e164 == number["phone_number"]))
        if proxy is None or proxy.status == RELEASED:
            proxy = add_proxy_number(number["phone_number"], provider_sid=number["sid"])
        proxy.provider_sid = number["sid"]
        synced.append(proxy)
    db.session.flush()
    return synced


def retire(raw: str) -> ProxyNumber:
    """`proxy retire`: drain the number typed (the CLI's older word for draining)."""
    e164, _ = parse_proxy(raw)
    proxy = db.session.scalar(select(ProxyNumber).where(ProxyNumber.e164 == e164))
    if proxy is None:
        raise NotFound("not_found.pool_number", field="number", number=e164)
    return drain(proxy)


def get_proxy(proxy_id: int) -> ProxyNumber:
    return get_or_refuse(ProxyNumber, proxy_id, "not_found.proxy_number")


def drain(proxy: ProxyNumber) -> ProxyNumber:
    """No new bindings on this number; its existing ones live out their TTL. Draining a
    draining number changes nothing; a released one cannot be drained."""
    if proxy.status == RELEASED:
        raise Conflict("conflict.pool_released", number=proxy.e164, id=proxy.id, status=proxy.status)
    proxy.status, proxy.retired_at = DRAINING, proxy.retired_at or utcnow()
    db.session.flush()
    return proxy


def active_bindings_of(proxy_id: int) -> int:
    """Active bindings on the number, counted (not the allocation's running count)."""
    return db.session.scalar(select(func.count(Binding.id)).where(
        Binding.proxy_number_id == proxy_id, Binding.ended_at.is_(None))) or 0


def pool() -> list[ProxyNumber]:
    return list(db.session.scalars(select(ProxyNumber).order_by(ProxyNumber.id)))


@dataclass(frozen=True)
class PoolStats:
    active_bindings: int
    busiest_party_degree: int
    pool_size: int
    shared_numbers: int
    cap: int

    @property
    def numbers_needed(self) -> int:
        """Lower bound on direct numbers: the busiest party needs one per partner,
        and each number carries at most `cap` pairs."""
        return max(self.busiest_party_degree, math.ceil(self.active_bindings / self.cap))


def stats(default_cap: int) -> PoolStats:
    direct = (Binding.ended_at.is_(None), Binding.extension.is_(None))
    parties = union_all(
        select(Binding.party_a_hash.label("party")).where(*direct),
        select(Binding.party_b_hash.label("party")).where(*direct),
    ).subquery()
    degrees = select(func.count().label("degree")).select_from(parties).group_by(parties.c.party).subquery()
    active_numbers = select(func.count(ProxyNumber.id)).where(ProxyNumber.status == "active")
    return PoolStats(
        active_bindings=db.session.scalar(
            select(func.count(Binding.id)).where(Binding.ended_at.is_(None))) or 0,
        busiest_party_degree=db.session.scalar(select(func.max(degrees.c.degree))) or 0,
        pool_size=db.session.scalar(active_numbers.where(ProxyNumber.shared.is_(False))) or 0,
        shared_numbers=db.session.scalar(active_numbers.where(ProxyNumber.shared.is_(True))) or 0,
        cap=default_cap,
    )
