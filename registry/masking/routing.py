"""Inbound routing: who a call or text to a proxy number reaches, if anyone.

Every decision is logged: the leg in `call_records`, the decision itself as
a chained event. A caller the proxy must not connect (no active binding,
an ended one, a suspended merchant, an unreadable caller ID) is
intercepted: it hears a short message and the attempt is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from registry.calllog import operations as calllog
from registry.extensions import db
from registry.masking.allocation import extend
from registry.masking.models import Binding, ProxyNumber
from registry.merchants.models import Merchant, MerchantNumber
from registry.phones import PhoneError, get_cipher, mask, parse_phone
from registry.timeutil import utcnow


@dataclass(frozen=True)
class Decision:
    action: str  # "connect", "ask_extension" or "refuse"
    proxy: ProxyNumber | None = None
    binding: Binding | None = None
    connect_to: str | None = None
    reason: str | None = None
    duplicate: bool = False  # a delivery already handled (Twilio retried it)


def _caller(raw: str | None) -> str | None:
    """The caller's E.164, or None for withheld, anonymous or odd caller IDs."""
    if not raw or not raw.startswith("+"):
        return None
    try:
        return parse_phone(raw, "CN", field="From").e164
    except PhoneError:
        return None


def _refusal(binding: Binding) -> str | None:
    """Why an active binding must still not connect, if it must not."""
    if binding.merchant_id is not None:
        merchant = db.session.get(Merchant, binding.merchant_id)
        if merchant is not None and merchant.status != "active":
            return "merchant suspended"
    suspended = db.session.scalar(select(MerchantNumber.id).where(
        MerchantNumber.number_hash == binding.party_a_hash, MerchantNumber.status == "suspended"))
    if suspended is not None:
        return "merchant number suspended"
    return None


def _active_binding(proxy: ProxyNumber, caller_hash: str, extension: str | None = None):
    now = utcnow()
    query = select(Binding).where(
        Binding.proxy_number_id == proxy.id, Binding.ended_at.is_(None), Binding.expires_at > now,
        or_(Binding.party_a_hash == caller_hash, Binding.party_b_hash == caller_hash),
    )
    query = query.where(Binding.extension == extension if extension else Binding.extension.is_(None))
    return db.session.scalars(query.limit(1)).first()


def decide(to: str | None, from_: str | None, extension: str | None = None) -> Decision:
    """Where a call or text from `from_` to proxy number `to` goes."""
    proxy = db.session.scalar(select(ProxyNumber).where(ProxyNumber.e164 == (to or "")))
    if proxy is None:
        return Decision("refuse", reason="not a proxy number")
    caller = _caller(from_)
    if caller is None:
        return Decision("refuse", proxy, reason="caller ID missing or unreadable")
    if proxy.shared and extension is None:
        return Decision("ask_extension", proxy)
    binding = _active_binding(proxy, get_cipher().lookup_hash(caller), extension)
    if binding is None:
        return Decision("refuse", proxy, reason="no active binding for this caller")
    refusal = _refusal(binding)
    if refusal:
        return Decision("refuse", proxy, binding, reason=refusal)
    return Decision("connect", proxy, binding, connect_to=binding.other_party(
        get_cipher().lookup_hash(caller)))


def route_call(call_sid: str, to: str | None, from_: str | None, ttl: timedelta,
               extension: str | None = None) -> Decision:
    """Decide an inbound call's route and log the leg and the decision."""
    decision = decide(to, from_, extension)
    connected = decision.action == "connect"
    record = calllog.open_leg(
        call_sid, kind="relay" if decision.action != "refuse" else "intercepted",
        direction="inbound", from_number=_caller(from_), to_number=to if decision.proxy else None,
        status="ringing", proxy_number=decision.proxy.e164 if decision.proxy else None,
        binding_id=decision.binding.id if connected else None,
        merchant_id=decision.binding.merchant_id if decision.binding else None,
    )
    if decision.action == "refuse" and record.kind != "intercepted":
        record.kind = "intercepted"  # e.g. a wrong extension after the prompt
    if connected:
        extend(decision.binding, ttl)
    calllog.log_event("routing", {
        "decision": decision.action, "reason": decision.reason,
        "binding_id": decision.binding.id if decision.binding else None,
        "extension": extension, "to_masked": mask(decision.connect_to) if connected else None,
    }, call_sid=call_sid, dedupe_key=calllog.delivery_key(call_sid, "routing", extension))
    return decision


def route_text(message_sid: str, to: str | None, from_: str | None) -> Decision:
    """Decide where an inbound SMS is relayed, and log it (never its text)."""
    decision = decide(to, from_)
    if decision.action == "ask_extension":  # a text cannot type an extension
        decision = Decision("refuse", decision.proxy, reason="shared number takes calls only")
    event = calllog.log_event("sms", {
        "decision": "relay" if decision.action == "connect" else "intercepted",
        "reason": decision.reason, "proxy_number": decision.proxy.e164 if decision.proxy else None,
        "from_masked": mask(_caller(from_)) if _caller(from_) else None,
        "binding_id": decision.binding.id if decision.binding else None,
    }, dedupe_key=calllog.delivery_key(message_sid, "sms"))
    if event is None:
        return Decision("refuse", decision.proxy, reason="already handled", duplicate=True)
    return decision
