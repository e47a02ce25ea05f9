"""Shopper identity: prove a number by code, get a token tied to it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from registry.core import dialects
from registry.core.bearer import SHOPPER_TOKEN_PREFIX
from registry.core.errors import Forbidden
from registry.core.extensions import db
from registry.core.phones import PhoneNumber, get_cipher, parse_phone
from registry.core.timeutil import as_utc, utcnow
from registry.shoppers.models import Shopper, ShopperToken
from registry.shoppers.timezones import display_zone
from registry.telephony import TelephonyGateway
from registry.verification import operations as codes
from registry.verification.policy import Requester, VerificationPolicy

TOKEN_LIFETIME = timedelta(days=30)


def _target(phone: PhoneNumber) -> codes.Target:
    return codes.Target.of(phone.e164, "shopper")


def _channel(phone: PhoneNumber) -> str:
    return "sms" if phone.can_receive_sms else "call"


def start_verification(gateway: TelephonyGateway, raw_phone: object, requester: Requester,
                       policy: VerificationPolicy, default_region: str,
                       locale: str | None = None) -> str:
    """Send a code to the shopper's number; returns the channel used."""
    phone = parse_phone(raw_phone, default_region, field="phone")
    channel = _channel(phone)
    codes.send_code(gateway, _target(phone), channel, requester, policy, locale)
    return channel


def confirm_verification(gateway: TelephonyGateway, raw_phone: object, code: object,
                         requester: Requester, policy: VerificationPolicy,
                         default_region: str) -> tuple[Shopper, str]:
    """Check the code; returns the shopper (created on first proof) and a new token."""
    phone = parse_phone(raw_phone, default_region, field="phone")
    codes.check_code(gateway, _target(phone), code, requester, policy)
    number_hash = get_cipher().lookup_hash(phone.e164)
    shopper = db.session.scalar(select(Shopper).where(get_cipher().matches(Shopper.phone_hash, phone.e164)))
    if shopper is None:
        shopper = Shopper(phone=phone.e164, phone_hash=number_hash, masked=phone.masked,
                          region=phone.region, timezone=display_zone(phone.e164))
        db.session.add(shopper)
    shopper.verified_at = utcnow()
    db.session.flush()
    return shopper, issue_token(shopper)


def issue_token(shopper: Shopper) -> str:
    token = SHOPPER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ShopperToken(shopper_id=shopper.id, token_hash=_hash(token),
                                expires_at=utcnow() + TOKEN_LIFETIME))
    db.session.flush()
    return token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shopper_for_token(token: str) -> Shopper | None:
    row = db.session.scalar(select(ShopperToken).where(ShopperToken.token_hash == _hash(token)))
    if row is None or as_utc(row.expires_at) <= utcnow():
        return None
    return row.shopper


def ensure_not_blocked(shopper: Shopper) -> None:
    if shopper.blocked_at is not None:
        raise Forbidden("shopper_blocked")


def asserted_shopper(phone: PhoneNumber, client_id: int) -> Shopper:
    """The shopper with this number, created if new as vouched for by integration client
    `client_id` (the marketplace proved the number; no code is sent here). An existing shopper
    is as it was: one who proved the number by code keeps that, and a blocked one stays blocked."""
    number_hash = get_cipher().lookup_hash(phone.e164)
    query = select(Shopper).where(get_cipher().matches(Shopper.phone_hash, phone.e164))
    shopper = db.session.scalar(query)
    if shopper is None:
        # ON CONFLICT DO NOTHING: a concurrent request that created the same shopper first wins,
        # without an error (or a savepoint) here.
        table = Shopper.__table__
        now = utcnow()
        db.session.execute(dialects.insert_ignore(table, dialects.flavour(db.session)).values({
            table.c.phone_encrypted: phone.e164, table.c.phone_hash: number_hash,
            table.c.masked: phone.masked, table.c.region: phone.region,
            table.c.timezone: display_zone(phone.e164), table.c.asserted_by_client_id: client_id,
            table.c.verified_at: now, table.c.created_at: now}))
        shopper = db.session.scalar(query)
    return shopper


def is_blocked_number(e164: str) -> bool:
    """Whether staff blocked the shopper with this number (an unknown number is not blocked)."""
    return db.session.scalar(select(Shopper.id).where(
        get_cipher().matches(Shopper.phone_hash, e164), Shopper.blocked_at.is_not(None))) is not None
