"""Merchant rules: stores, numbers, and proving a number is the merchant's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.phones import get_cipher, parse_phone
from registry.core.timeutil import utcnow
from registry.merchants.hours import (
    DEFAULT_BUSINESS_HOURS,
    DEFAULT_TIMEZONE,
    parse_business_hours,
    parse_timezone,
)
from registry.merchants.models import Merchant, MerchantNumber
from registry.telephony import TelephonyGateway
from registry.verification import operations as codes
from registry.verification.policy import Requester, VerificationPolicy
from registry.verification.state import CodeState, code_state
from registry.webhooks.events import emit, iso

MAX_NAME_LENGTH = 100
MAX_LABEL_LENGTH = 60
MAX_NUMBERS_PER_MERCHANT = 10
# Why a number lapsed, stored in `status_reason` (and shown by the API as it is).
LAPSED_CLAIMED = "claimed by another store"
LAPSED_EXPIRED = "verification expired; verify again"


def clean_name(name: object) -> str:
    """A store's name as stored (inner whitespace collapsed), or a refusal."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("invalid.store_name", field="name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput("invalid.store_name_long", field="name", limit=MAX_NAME_LENGTH)
    return name


def merchant_of(owner_id: int) -> Merchant | None:
    return db.session.scalar(select(Merchant).where(Merchant.owner_id == owner_id))


def create_merchant(owner_id: int, name: object, timezone: object = None,
                    business_hours: object = None, *, client_id: int | None = None,
                    external_id: str | None = None) -> Merchant:
    """Create the owner's store (one per owner account); an integration client's import names
    itself and its id for the store."""
    name = clean_name(name)
    timezone = DEFAULT_TIMEZONE if timezone is None else parse_timezone(timezone)
    hours = DEFAULT_BUSINESS_HOURS if business_hours is None else parse_business_hours(
        business_hours)
    existing = merchant_of(owner_id)
    if existing is not None:
        raise Conflict("store_exists", id=existing.id)
    merchant = Merchant(owner_id=owner_id, name=name, timezone=timezone, business_hours=hours,
                        client_id=client_id, external_id=external_id)
    db.session.add(merchant)
    db.session.flush()
    return merchant


def update_merchant(merchant: Merchant, name: object, timezone: object,
                    business_hours: object) -> Merchant:
    """Change the store profile; all fields are validated before any is set."""
    name, timezone = clean_name(name), parse_timezone(timezone)
    hours = parse_business_hours(business_hours)
    merchant.name, merchant.timezone, merchant.business_hours = name, timezone, hours
    db.session.flush()
    return merchant


def get_merchant(merchant_id: int) -> Merchant:
    return get_or_refuse(Merchant, merchant_id, "not_found.store")


def merchant_for_client(client_id: int, merchant_id: object = None, external_id: object = None) -> Merchant:
    """The store an integration client names by our id or by its own external id (one of them).

    External ids are the client's own: another client's are unknown to it (404).
    """
    if (merchant_id is None) == (external_id is None):
        raise InvalidInput("required.merchant_reference", field="merchant_id")
    if merchant_id is not None:
        return get_or_refuse(Merchant, merchant_id, "not_found.store")
    merchant = db.session.scalar(select(Merchant).where(Merchant.client_id == client_id,
                                                        Merchant.external_id == external_id))
    if merchant is None:
        raise NotFound("not_found.store_external_id", field="merchant_external_id")
    return merchant


def verified_number(merchant: Merchant) -> MerchantNumber | None:
    """The store's verified number, the one the platform connects (callbacks, bindings), if any."""
    return next((n for n in merchant.numbers if n.status == "verified"), None)


def owned_merchant(merchant_id: int, owner_id: int) -> Merchant:
    """The store if `owner_id` owns it; otherwise 404, so existence is not revealed."""
    return get_or_refuse(Merchant, merchant_id, "not_found.store", lambda m: m.owner_id == owner_id)


def owned_number(number_id: int, owner_id: int) -> MerchantNumber:
    return get_or_refuse(MerchantNumber, number_id, "not_found.number",
                         lambda n: n.merchant.owner_id == owner_id)


def clean_label(label: object) -> str | None:
    """A number's label as stored (None for none), or a refusal."""
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL_LENGTH):
        raise InvalidInput("invalid.label", field="label", limit=MAX_LABEL_LENGTH)
    return (label or "").strip() or None


def add_number(merchant: Merchant, raw_number: object, region: object = None,
               label: object = None, default_region: str = "CN") -> MerchantNumber:
    """Add a contact number to a store, unverified."""
    if region is not None and (not isinstance(region, str) or len(region) != 2
                               or not region.isalpha()):
        raise InvalidInput("invalid.region", field="region")
    label = clean_label(label)
    phone = parse_phone(raw_number, region or default_region, field="number")
    number_hash = get_cipher().lookup_hash(phone.e164)
    existing = db.session.scalar(select(MerchantNumber).where(
        MerchantNumber.merchant_id == merchant.id,
        get_cipher().matches(MerchantNumber.number_hash, phone.e164)))
    if existing is not None:
        raise Conflict("duplicate_number", field="number", id=existing.id)
    if len(merchant.numbers) >= MAX_NUMBERS_PER_MERCHANT:
        raise InvalidInput("too_many_numbers", field="number", limit=MAX_NUMBERS_PER_MERCHANT)
    number = MerchantNumber(
        merchant=merchant, e164=phone.e164, number_hash=number_hash, masked=phone.masked,
        region=phone.region, line_type=phone.line_type,
        label=label, status="unverified",
    )
    db.session.add(number)
    db.session.flush()
    return number


def _target(number: MerchantNumber) -> codes.Target:
    return codes.Target.of(number.e164, "merchant_number", merchant_number_id=number.id)


def number_code_state(number: MerchantNumber, requester: Requester, policy: VerificationPolicy) -> CodeState:
    """Where the number's latest code stands: the page offers the code form only while one waits."""
    return code_state(_target(number), requester, policy)


def choose_channel(number: MerchantNumber, requested: object) -> str:
    """SMS for mobiles, a voice call for fixed lines; a landline cannot take SMS."""
    if requested is None:
        return number.default_channel
    if requested not in codes.CHANNELS:
        raise InvalidInput("invalid.channel", field="channel")
    if requested == "sms" and number.default_channel == "call":
        raise InvalidInput("invalid.landline_sms", field="channel")
    return requested


@dataclass(frozen=True)
class SentCode:
    channel: str
    resend_after_seconds: int
    expires_in_seconds: int


def start_verification(gateway: TelephonyGateway, number: MerchantNumber, channel: object,
                       requester: Requester, policy: VerificationPolicy,
                       locale: str | None = None) -> SentCode:
    """Send a code to one of the merchant's numbers."""
    if number.status == "suspended":
        raise Conflict("number_suspended", field="number")
    chosen = choose_channel(number, channel)
    codes.send_code(gateway, _target(number), chosen, requester, policy, locale)
    if number.status in ("unverified", "lapsed"):
        number.status = "pending"
    db.session.flush()
    return SentCode(chosen, policy.resend_seconds, policy.code_ttl_seconds)


def confirm_verification(gateway: TelephonyGateway, number: MerchantNumber, code: object,
                         requester: Requester, policy: VerificationPolicy,
                         lapse_days: int) -> MerchantNumber:
    """Check the code; on success the number is verified and any other store's
    claim on the same number lapses."""
    if number.status == "suspended":
        raise Conflict("number_suspended", field="number")
    codes.check_code(gateway, _target(number), code, requester, policy)
    now = utcnow()
    # Another store's verified claim on this number lapses first, so the
    # one-verified-claim index holds at every flush.
    _lapse(get_cipher().matches(MerchantNumber.number_hash, number.e164) & (MerchantNumber.id != number.id)
           & (MerchantNumber.status == "verified"), LAPSED_CLAIMED)
    number.status, number.status_reason = "verified", None
    number.verified_at, number.reverify_at = now, now + timedelta(days=lapse_days)
    db.session.flush()
    _notify(number, "number.verified")
    return number


def _lapse(condition, reason: str) -> int:
    """Lapse the numbers meeting `condition`, each with its `number.lapsed` event; flushed."""
    numbers = db.session.scalars(select(MerchantNumber).where(condition)).all()
    for lapsed in numbers:
        lapsed.status, lapsed.status_reason = "lapsed", reason
    db.session.flush()
    for lapsed in numbers:
        _notify(lapsed, "number.lapsed")
    return len(numbers)


def _notify(number: MerchantNumber, event_type: str) -> None:
    """A number's webhook event: masked, as every output shows it."""
    emit(event_type, {"number_id": number.id, "merchant_id": number.merchant_id, "number": number.masked,
                      "status": number.status, "reason": number.status_reason,
                      "verified_at": iso(number.verified_at),
                      "reverify_at": iso(number.reverify_at)})


def lapse_expired_verifications(now=None) -> int:
    """Mark verified numbers whose re-verification date has passed as lapsed."""
    now = now or utcnow()
    return _lapse((MerchantNumber.status == "verified") & (MerchantNumber.reverify_at <= now), LAPSED_EXPIRED)


@dataclass(frozen=True)
class PublicProfile:
    id: int
    name: str
    verified: bool
    callback_available: bool
    timezone: str
    business_hours: dict


def public_profile(merchant: Merchant) -> PublicProfile:
    """What anyone may see of a store: never a real number."""
    active = merchant.status == "active"
    verified = active and any(n.status == "verified" for n in merchant.numbers)
    has_hours = any(merchant.business_hours.get(day) for day in merchant.business_hours)
    return PublicProfile(
        id=merchant.id, name=merchant.name, verified=verified,
        callback_available=verified and has_hours, timezone=merchant.timezone,
        business_hours=merchant.business_hours,
    )
