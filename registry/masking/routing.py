"""Inbound routing: who a call or text to a proxy number reaches, if anyone.

Every decision is logged: the leg in `call_records`, the decision itself as
a chained event. A caller the proxy must not connect (no active binding,
an ended one, a suspended merchant, an unreadable caller ID) is
intercepted: it hears a short message and the attempt is kept.

This is the hottest path of the product (every call to every proxy number
waits on it), so it works in plain SQL: one query decides, one statement
logs the leg, one the event; the binding's expiry is only written when a
call would move it by more than `EXTEND_STEP` of its lifetime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import String, bindparam, exists, select, true, union_all, update

from registry.calllog import operations as calllog
from registry.core.extensions import db
from registry.core.phones import PhoneError, get_cipher, mask, parse_phone
from registry.core.timeutil import as_utc, utcnow
from registry.masking.models import Binding, ProxyNumber
from registry.merchants.models import Merchant, MerchantNumber
from registry.telephony.languages import WITHHELD

# Twilio sends a PSTN caller ID in E.164 already; anything else is parsed.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# A call extends its binding only when that moves the expiry by more than this share of
# its lifetime: the expiry stays within 1% of "last call + TTL" at one write per 1% of it.
EXTEND_STEP = 0.01


@dataclass(frozen=True)
class Decision:
    action: str  # "connect", "ask_extension" or "refuse"
    proxy_id: int | None = None
    proxy_e164: str | None = None
    proxy_country: str | None = None
    binding_id: int | None = None
    merchant_id: int | None = None
    connect_to: str | None = None
    reason: str | None = None
    duplicate: bool = False  # a delivery already handled (Twilio retried it)
    # Who called, for the language each party hears: the merchant (party A of the binding
    # found) or not; and the store's time zone. None when no binding was found.
    caller_is_merchant: bool | None = None
    merchant_timezone: str | None = None


def _caller(raw: str | None) -> str | None:
    """The caller's E.164, or None for withheld, anonymous or odd caller IDs."""
    if not raw or not raw.startswith("+") or raw in WITHHELD:
        return None
    if E164.fullmatch(raw):
        return raw
    try:
        return parse_phone(raw, "CN", field="From").e164
    except PhoneError:
        return None


@cache
def _route_query(extension: bool):
    """The proxy number `:to`, with the active binding of the caller (`:caller`, a lookup
    hash) on it, if any, and what could still forbid connecting through it: one statement,
    built once.

    The binding is found by two index probes, one per side the caller may be on, each
    on a partial unique index: (proxy, party A) and (proxy, party B) for direct numbers,
    (proxy, extension) for shared ones. An OR of the two sides would read every active
    binding of the number instead (up to its cap), and cost grows with its load.
    """
    proxy, binding = ProxyNumber.__table__, Binding.__table__
    merchant, number = Merchant.__table__, MerchantNumber.__table__
    caller = bindparam("caller", type_=String)
    proxy_id = select(proxy.c.id).where(proxy.c.e164 == bindparam("to", type_=String)).scalar_subquery()
    mode = (binding.c.extension == bindparam("extension", type_=String) if extension
            else binding.c.extension.is_(None))

    def side(caller_hash, other_party):
        # Only the other party's number is decrypted.
        return select(binding.c.id, binding.c.merchant_id, binding.c.expires_at, binding.c.party_a_hash,
                      other_party.label("other_party")).where(
            binding.c.proxy_number_id == proxy_id, caller_hash == caller, binding.c.ended_at.is_(None), mode,
            binding.c.expires_at > bindparam("now", type_=binding.c.expires_at.type))

    found = union_all(side(binding.c.party_a_hash, binding.c.party_b_encrypted),
                      side(binding.c.party_b_hash, binding.c.party_a_encrypted)).subquery("found")
    number_suspended = exists().where(number.c.number_hash == found.c.party_a_hash,
                                      number.c.status == "suspended")
    return (
        select(proxy.c.id, proxy.c.e164, proxy.c.country, proxy.c.shared,
               found.c.id.label("binding_id"), found.c.merchant_id, found.c.expires_at,
               merchant.c.status.label("merchant_status"), number_suspended.label("number_suspended"),
               found.c.other_party, found.c.party_a_hash, merchant.c.timezone.label("merchant_timezone"))
        .select_from(proxy.outerjoin(found, true()).outerjoin(merchant, merchant.c.id == found.c.merchant_id))
        .where(proxy.c.e164 == bindparam("to", type_=String)).limit(1)
    )


@dataclass(frozen=True)
class _Route:
    decision: Decision
    expires_at: datetime | None = None


def _decide(to: str | None, caller: str | None, extension: str | None, now: datetime) -> _Route:
    # No caller ID: a hash no party has, so the proxy number is still found. During a rotation
    # of DATA_KEY a binding stored before `keys rotate` reached it has the caller's older hash.
    for caller_hash in get_cipher().lookup_hashes(caller) if caller else [""]:
        row = db.session.connection().execute(_route_query(extension is not None), {
            "to": to or "", "caller": caller_hash, "now": now, "extension": extension}).first()
        if row is None or row.binding_id is not None:
            break
    if row is None:
        return _Route(Decision("refuse", reason="not a proxy number"))
    proxy = {"proxy_id": row.id, "proxy_e164": row.e164, "proxy_country": row.country}
    if caller is None:
        return _Route(Decision("refuse", **proxy, reason="caller ID missing or unreadable"))
    if row.shared and extension is None:
        return _Route(Decision("ask_extension", **proxy))
    if row.binding_id is None:
        return _Route(Decision("refuse", **proxy, reason="no active binding for this caller"))
    found = {**proxy, "binding_id": row.binding_id, "merchant_id": row.merchant_id,
             "caller_is_merchant": row.party_a_hash == caller_hash,
             "merchant_timezone": row.merchant_timezone}
    if row.merchant_status is not None and row.merchant_status != "active":
        return _Route(Decision("refuse", **found, reason="merchant suspended"))
    if row.number_suspended:
        return _Route(Decision("refuse", **found, reason="merchant number suspended"))
    return _Route(Decision("connect", **found, connect_to=row.other_party), as_utc(row.expires_at))


def decide(to: str | None, from_: str | None, extension: str | None = None) -> Decision:
    """Where a call or text from `from_` to proxy number `to` goes."""
    return _decide(to, _caller(from_), extension, utcnow()).decision


_bindings = Binding.__table__
_EXTEND = update(_bindings).where(_bindings.c.id == bindparam("binding"), _bindings.c.expires_at < bindparam(
    "target", type_=_bindings.c.expires_at.type)).values(expires_at=bindparam("target"))


def _extend(binding_id: int, expires_at: datetime, ttl: timedelta, now: datetime) -> None:
    """Keep a binding alive for `ttl` after this call (see `EXTEND_STEP`)."""
    target = now + ttl
    if target - expires_at > ttl * EXTEND_STEP:
        db.session.connection().execute(_EXTEND, {"binding": binding_id, "target": target})


def route_call(call_sid: str, to: str | None, from_: str | None, ttl: timedelta,
               extension: str | None = None) -> Decision:
    """Decide an inbound call's route and log the leg and the decision."""
    now, caller = utcnow(), _caller(from_)
    route = _decide(to, caller, extension, now)
    decision = route.decision
    connected = decision.action == "connect"
    if connected:
        _extend(decision.binding_id, route.expires_at, ttl, now)
    calllog.log_routed_call(
        call_sid, intercepted=decision.action == "refuse", from_number=caller,
        proxy_number=decision.proxy_e164, binding_id=decision.binding_id if connected else None,
        merchant_id=decision.merchant_id, event={
            "decision": decision.action, "reason": decision.reason, "binding_id": decision.binding_id,
            "extension": extension, "to_masked": mask(decision.connect_to) if connected else None,
        }, dedupe_key=calllog.delivery_key(call_sid, "routing", extension))
    return decision


def route_text(message_sid: str, to: str | None, from_: str | None) -> Decision:
    """Decide where an inbound SMS is relayed, and log it (never its text)."""
    caller = _caller(from_)
    decision = _decide(to, caller, None, utcnow()).decision
    if decision.action == "ask_extension":  # a text cannot type an extension
        decision = replace(decision, action="refuse", reason="shared number takes calls only")
    event = calllog.log_event("sms", {
        "decision": "relay" if decision.action == "connect" else "intercepted",
        "reason": decision.reason, "proxy_number": decision.proxy_e164,
        "from_masked": mask(caller) if caller else None, "binding_id": decision.binding_id,
    }, dedupe_key=calllog.delivery_key(message_sid, "sms"))
    if event is None:
        return replace(decision, action="refuse", connect_to=None, reason="already handled", duplicate=True)
    return decision
