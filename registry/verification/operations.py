"""Sending and checking one-time codes.

Twilio Verify generates, delivers and checks the codes, so the platform
never sees or stores one. On top of Verify's own rules the platform keeps
its limits (`limits`, docs/rules.md) and its own count of checks.

Twilio keeps one pending verification per number, whoever asked for it; a
shopper's and a merchant's code for one number would be the same, and a
stranger failing "shopper" checks would lock the store's code. So each
verification belongs to one context (`Target.context`: the shopper side of
a number, or one store's claim on it, which only its owner can reach):

- a check is made only against its context's own verification, by SID, and
  counted on that verification's row (`Verification.checks`) with one
  atomic increment, so the fifth wrong check locks it however many arrive
  at once, and a lockout in one context never touches another;
- a send re-sends the context's pending code while it is usable; a locked
  one, or another context's, is canceled at Twilio first, so the send
  starts a fresh verification with fresh checks;
- a store's owner always gets a fresh code that way, but a shopper-side
  send (anyone may make one) never cancels a store's usable code: it waits
  for that code's life to end (429 `too_many_codes.pending`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from registry.core.dialects import flavour, insert_ignore
from registry.core.errors import AppError, BadRequest, InvalidInput, ProviderUnavailable, RateLimited
from registry.core.extensions import db
from registry.core.metrics import VERIFICATIONS
from registry.core.phones import get_cipher, normalise_digits
from registry.core.timeutil import as_utc, utcnow
from registry.telephony import ProviderError, TelephonyGateway, VerificationNotFound
from registry.telephony.gateway import INVALID_PARAMETER, MAX_CHECK_ATTEMPTS, MAX_SEND_ATTEMPTS
from registry.verification.limits import LIMIT_CODES, send_wait
from registry.verification.models import (
    SHOPPER_CONTEXT,
    Verification,
    VerificationAttempt,
    merchant_number_context,
)
from registry.verification.policy import Requester, VerificationPolicy

__all__ = ["CHANNELS", "LIMIT_CODES", "Target", "WrongCode", "check_code", "normalise_code",
           "send_code", "send_wait"]

CODE_PATTERN = re.compile(r"[0-9]{6}")
CHANNELS = ("sms", "call")


@dataclass(frozen=True)
class Target:
    """The number a code goes to, and what the attempt is about."""

    e164: str
    # The number's keyed hash under every key DATA_KEY lists, newest first: rows are written
    # with the newest, and found under any (rows written before a rotation of the key count
    # towards the limits, and their codes can still be checked).
    number_hashes: tuple[str, ...]
    subject: str  # "merchant_number" or "shopper"
    merchant_number_id: int | None = None

    @classmethod
    def of(cls, e164: str, subject: str, merchant_number_id: int | None = None) -> Target:
        """The target for number `e164`, its hashes computed with the app's DATA_KEY."""
        return cls(e164, tuple(get_cipher().lookup_hashes(e164)), subject, merchant_number_id)

    @property
    def number_hash(self) -> str:
        """The hash new rows are written with (the newest key's)."""
        return self.number_hashes[0]

    @property
    def context(self) -> str:
        """Whose verification this is: the shopper side of the number, or one store's claim."""
        if self.merchant_number_id is None:
            return SHOPPER_CONTEXT
        return merchant_number_context(self.merchant_number_id)

    @property
    def is_owner(self) -> bool:
        """A store's owner proving its number (signed in, and the only one who reaches it)."""
        return self.merchant_number_id is not None


class WrongCode(AppError):
    status = 400


def _record(target: Target, requester: Requester, action: str, outcome: str, **fields):
    attempt = VerificationAttempt(
        number_hash=target.number_hash,
        subject=target.subject,
        merchant_number_id=target.merchant_number_id,
        user_id=requester.user_id,
        ip=requester.ip,
        action=action,
        outcome=outcome,
        **fields,
    )
    db.session.add(attempt)
    db.session.flush()
    VERIFICATIONS.labels(action, outcome).inc()
    return attempt


def _life_left(verification: Verification, policy: VerificationPolicy, now) -> float:
    """Seconds the code has to live (Twilio's life runs from the verification's creation)."""
    ends = as_utc(verification.created_at) + timedelta(seconds=policy.code_ttl_seconds)
    return (ends - now).total_seconds()


def _pending_on_number(target: Target, policy: VerificationPolicy, now) -> list[Verification]:
    """The number's verifications that Twilio may still hold pending, any context."""
    since = now - timedelta(seconds=policy.code_ttl_seconds)
    rows = db.session.scalars(
        select(Verification)
        .where(Verification.number_hash.in_(target.number_hashes), Verification.status == "pending")
        .where(Verification.created_at > since)
        .order_by(Verification.id)
    )
    return [row for row in rows if _life_left(row, policy, now) > 0]


def _make_room(gateway: TelephonyGateway, target: Target, requester: Requester,
               policy: VerificationPolicy, holders: list[Verification], now) -> None:
    """Cancel the pending verifications a send in `target.context` must not re-send, or
    refuse the send when one of them is a store's usable code and the sender is not its owner."""
    in_the_way = []
    for holder in holders:
        usable = holder.checks < policy.max_checks
        if holder.context == target.context and usable:
            continue  # Twilio re-sends this very code: a resend, not a fresh check
        if usable and holder.context != SHOPPER_CONTEXT and not target.is_owner:
            _record(target, requester, "send", "rate_limited", detail="pending")
            raise RateLimited(LIMIT_CODES["pending"], _life_left(holder, policy, now),
                              field="number", keeps_audit=True)
        in_the_way.append(holder)
    for holder in in_the_way:
        try:
            gateway.cancel_verification(holder.provider_sid)
        except ProviderError as exc:
            _record(target, requester, "send", "provider_error", detail=f"cancel {exc.code}")
            raise ProviderUnavailable("provider_unavailable.send", keeps_audit=True) from None
        holder.status = "canceled"
    db.session.flush()


def _start(gateway, target: Target, channel: str, requester: Requester,
           policy: VerificationPolicy, locale: str | None):
    try:
        return gateway.start_verification(target.e164, channel, locale)
    except ProviderError as exc:
        _record(target, requester, "send", "provider_error", channel=channel, detail=str(exc.code))
        if exc.code == MAX_SEND_ATTEMPTS:
            raise RateLimited("too_many_codes.provider", policy.code_ttl_seconds, field="number",
                              keeps_audit=True) from None
        if exc.code == INVALID_PARAMETER:
            raise InvalidInput("invalid.channel_unreachable", field="channel",
                               keeps_audit=True) from None
        raise ProviderUnavailable("provider_unavailable.send", keeps_audit=True) from None


def _claim(sid: str, target: Target, now) -> Verification:
    """The row of Twilio's verification `sid`, created for `target.context` if new. An
    insert that yields to a row another request is writing (and then reads it), so two
    sends that cross cannot fail on the unique SID."""
    db.session.execute(insert_ignore(Verification.__table__, flavour(), ["provider_sid"]).values(
        provider_sid=sid, number_hash=target.number_hash, context=target.context,
        status="pending", checks=0, created_at=now))
    return db.session.scalar(select(Verification).where(Verification.provider_sid == sid)
                             .execution_options(populate_existing=True))


def send_code(
    gateway: TelephonyGateway,
    target: Target,
    channel: str,
    requester: Requester,
    policy: VerificationPolicy,
    locale: str | None = None,
) -> VerificationAttempt:
    """Send a code to `target` by `channel`, or refuse under a limit (429)."""
    if channel not in CHANNELS:
        raise InvalidInput("invalid.channel", field="channel")
    wait, limit = send_wait(target, requester, policy)
    if wait > 0:
        _record(target, requester, "send", "rate_limited", channel=channel, detail=limit)
        raise RateLimited(LIMIT_CODES[limit], wait, field="number", keeps_audit=True)
    now = utcnow()
    _make_room(gateway, target, requester, policy, _pending_on_number(target, policy, now), now)
    result = _start(gateway, target, channel, requester, policy, locale)
    row = _claim(result.sid, target, now)
    if row.context != target.context:
        # Another context's send for this number crossed ours, and Twilio re-sent its code
        # to us: settle it as if it had been seen first, then start our own.
        _make_room(gateway, target, requester, policy, [row], now)
        result = _start(gateway, target, channel, requester, policy, locale)
        row = _claim(result.sid, target, now)
        if row.context != target.context:
            raise ProviderUnavailable("provider_unavailable.send")
    return _record(target, requester, "send", "sent", channel=channel, provider_sid=result.sid)


def normalise_code(raw: object) -> str:
    """Six digits, typed in any script's digits; anything else is refused."""
    if not isinstance(raw, str):
        raise InvalidInput("invalid_type.code", field="code")
    text = normalise_digits(raw.strip()) if len(raw) < 40 else raw
    if not CODE_PATTERN.fullmatch(text):
        raise InvalidInput("invalid.code_format", field="code")
    return text


def _refusal(row: Verification, target: Target, requester: Requester,
             policy: VerificationPolicy, now) -> AppError | None:
    """Why no check may be made against `row` now, if there is a reason."""
    if row.status == "approved":
        return BadRequest("no_code.used", field="code")
    if row.checks >= policy.max_checks:
        _record(target, requester, "check", "rate_limited", provider_sid=row.provider_sid)
        wait, _ = send_wait(target, requester, policy, now)
        return RateLimited("too_many_checks", wait, field="code", keeps_audit=True)
    if row.status == "canceled" or _life_left(row, policy, now) <= 0:
        _record(target, requester, "check", "expired", provider_sid=row.provider_sid)
        return BadRequest("code_expired", field="code", keeps_audit=True)
    return None


def _take_check(row: Verification, policy: VerificationPolicy) -> int | None:
    """Count one check against `row`, atomically: the checks made so far including this one,
    or None if the code is no longer pending or has no check left. The row stays locked
    until the request ends, so concurrent checks of one code are counted one after another."""
    return db.session.execute(
        update(Verification)
        .where(Verification.id == row.id, Verification.status == "pending",
               Verification.checks < policy.max_checks)
        .values(checks=Verification.checks + 1)
        .returning(Verification.checks)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def check_code(
    gateway: TelephonyGateway,
    target: Target,
    raw_code: object,
    requester: Requester,
    policy: VerificationPolicy,
) -> VerificationAttempt:
    """Check a code against the latest verification of `target`'s context; returns the
    approved attempt or raises a refusal. Refusals that count (a wrong code) are recorded
    and kept."""
    code = normalise_code(raw_code)
    row = db.session.scalar(
        select(Verification)
        .where(Verification.number_hash.in_(target.number_hashes),
               Verification.context == target.context)
        .order_by(Verification.id.desc()).limit(1)
    )
    if row is None:
        raise BadRequest("no_code", field="code")
    now = utcnow()
    refusal = _refusal(row, target, requester, policy, now)
    if refusal is None and (checks := _take_check(row, policy)) is None:
        db.session.refresh(row)  # another check got there first: say what it left
        refusal = _refusal(row, target, requester, policy, now)
    if refusal is not None:
        raise refusal
    sid = row.provider_sid
    try:
        result = gateway.check_verification(target.e164, code, verification_sid=sid)
    except VerificationNotFound:
        _record(target, requester, "check", "expired", provider_sid=sid)
        raise BadRequest("code_expired", field="code", keeps_audit=True) from None
    except ProviderError as exc:
        if exc.code != MAX_CHECK_ATTEMPTS:
            raise ProviderUnavailable("provider_unavailable.check") from None
        row.checks = policy.max_checks  # Twilio counted more than we did: locked all the same
        _record(target, requester, "check", "rate_limited", provider_sid=sid)
        wait, _ = send_wait(target, requester, policy, now)
        raise RateLimited("too_many_checks", wait, field="code", keeps_audit=True) from None
    if not result.approved:
        _record(target, requester, "check", "wrong_code", provider_sid=sid)
        raise WrongCode("wrong_code", field="code", attempts_left=policy.max_checks - checks,
                        keeps_audit=True)
    row.status = "approved"
    return _record(target, requester, "check", "approved", provider_sid=sid)
