"""Sending and checking one-time codes.

Twilio Verify generates, delivers and checks the codes, so the platform
never sees or stores one. On top of Verify's own rules the platform keeps
its limits (docs/rules.md), counted from `verification_attempts`: they hold
across merchants and shoppers, because the person being messaged is the
same whoever asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from registry.core.errors import AppError, BadRequest, InvalidInput, ProviderUnavailable, RateLimited
from registry.core.extensions import db
from registry.core.phones import normalise_digits
from registry.core.timeutil import as_utc, utcnow
from registry.telephony import ProviderError, TelephonyGateway, VerificationNotFound
from registry.telephony.gateway import INVALID_PARAMETER, MAX_CHECK_ATTEMPTS, MAX_SEND_ATTEMPTS
from registry.verification.models import VerificationAttempt
from registry.verification.policy import Requester, VerificationPolicy

CODE_PATTERN = re.compile(r"[0-9]{6}")
CHANNELS = ("sms", "call")


@dataclass(frozen=True)
class Target:
    """The number a code goes to, and what the attempt is about."""

    e164: str
    number_hash: str
    subject: str  # "merchant_number" or "shopper"
    merchant_number_id: int | None = None


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
    return attempt


def _sent_times(condition, since: datetime) -> list[datetime]:
    query = (
        select(VerificationAttempt.created_at)
        .where(condition, VerificationAttempt.action == "send")
        .where(VerificationAttempt.outcome == "sent", VerificationAttempt.created_at >= since)
        .order_by(VerificationAttempt.created_at)
    )
    return [as_utc(t) for t in db.session.scalars(query)]


def _window_wait(times: list[datetime], limit: int, window: timedelta, now: datetime) -> float:
    """Seconds until fewer than `limit` sends lie in the window (0 if already)."""
    recent = [t for t in times if t > now - window]
    if len(recent) < limit:
        return 0.0
    return (recent[-limit] + window - now).total_seconds()


def send_wait(target: Target, requester: Requester, policy: VerificationPolicy, now=None):
    """Seconds to wait before a code may be sent, and which limit holds."""
    now = now or utcnow()
    day = timedelta(days=1)
    by_number = _sent_times(VerificationAttempt.number_hash == target.number_hash, now - day)
    waits = [
        (_window_wait(by_number, 1, timedelta(seconds=policy.resend_seconds), now), "resend"),
        (_window_wait(by_number, policy.sends_per_number_hour, timedelta(hours=1), now), "number"),
        (_window_wait(by_number, policy.sends_per_number_day, day, now), "number"),
    ]
    if requester.ip:
        by_ip = _sent_times(VerificationAttempt.ip == requester.ip, now - timedelta(hours=1))
        waits.append(
            (_window_wait(by_ip, policy.sends_per_ip_hour, timedelta(hours=1), now), "ip")
        )
    if requester.user_id is not None:
        by_user = _sent_times(VerificationAttempt.user_id == requester.user_id, now - day)
        waits.append((_window_wait(by_user, policy.sends_per_account_day, day, now), "account"))
    return max(waits)


# The refusal for each limit `send_wait` names (public code `too_many_codes`).
LIMIT_CODES = {
    "resend": "too_many_codes.resend",
    "number": "too_many_codes.number",
    "ip": "too_many_codes.ip",
    "account": "too_many_codes.account",
}


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
    try:
        result = gateway.start_verification(target.e164, channel, locale)
    except ProviderError as exc:
        _record(target, requester, "send", "provider_error", channel=channel, detail=str(exc.code))
        if exc.code == MAX_SEND_ATTEMPTS:
            raise RateLimited("too_many_codes.provider", policy.code_ttl_seconds, field="number",
                              keeps_audit=True) from None
        if exc.code == INVALID_PARAMETER:
            raise InvalidInput("invalid.channel_unreachable", field="channel",
                               keeps_audit=True) from None
        raise ProviderUnavailable("provider_unavailable.send", keeps_audit=True) from None
    return _record(target, requester, "send", "sent", channel=channel, provider_sid=result.sid)


def _current_code(target: Target) -> tuple[str, datetime] | None:
    """The latest verification sent to this number: its SID and when it started."""
    latest = db.session.scalar(
        select(VerificationAttempt.provider_sid)
        .where(VerificationAttempt.number_hash == target.number_hash)
        .where(VerificationAttempt.action == "send", VerificationAttempt.outcome == "sent")
        .order_by(VerificationAttempt.created_at.desc(), VerificationAttempt.id.desc())
        .limit(1)
    )
    if latest is None:
        return None
    # Twilio re-sends a pending verification's code; its life runs from the first send.
    started = db.session.scalar(
        select(func.min(VerificationAttempt.created_at)).where(
            VerificationAttempt.provider_sid == latest, VerificationAttempt.action == "send"
        )
    )
    return latest, as_utc(started)


def _checks_against(sid: str, outcome: str) -> int:
    return db.session.scalar(
        select(func.count(VerificationAttempt.id)).where(
            VerificationAttempt.provider_sid == sid,
            VerificationAttempt.action == "check",
            VerificationAttempt.outcome == outcome,
        )
    ) or 0


def normalise_code(raw: object) -> str:
    """Six digits, typed in any script's digits; anything else is refused."""
    if not isinstance(raw, str):
        raise InvalidInput("invalid_type.code", field="code")
    text = normalise_digits(raw.strip()) if len(raw) < 40 else raw
    if not CODE_PATTERN.fullmatch(text):
        raise InvalidInput("invalid.code_format", field="code")
    return text


def check_code(
    gateway: TelephonyGateway,
    target: Target,
    raw_code: object,
    requester: Requester,
    policy: VerificationPolicy,
) -> VerificationAttempt:
    """Check a code; returns the approved attempt or raises a refusal.

    Refusals that count (a wrong code) are recorded and kept.
    """
    code = normalise_code(raw_code)
    current = _current_code(target)
    if current is None:
        raise BadRequest("no_code", field="code")
    sid, started = current
    now = utcnow()
    if _checks_against(sid, "approved"):
        raise BadRequest("no_code.used", field="code")
    used = _checks_against(sid, "wrong_code")
    if used >= policy.max_checks:
        wait, _ = send_wait(target, requester, policy, now)
        _record(target, requester, "check", "rate_limited", provider_sid=sid)
        raise RateLimited("too_many_checks", wait, field="code", keeps_audit=True)
    if now > started + timedelta(seconds=policy.code_ttl_seconds):
        _record(target, requester, "check", "expired", provider_sid=sid)
        raise BadRequest("code_expired", field="code", keeps_audit=True)
    try:
        result = gateway.check_verification(target.e164, code)
    except VerificationNotFound:
        _record(target, requester, "check", "expired", provider_sid=sid)
        raise BadRequest("code_expired", field="code", keeps_audit=True) from None
    except ProviderError as exc:
        if exc.code == MAX_CHECK_ATTEMPTS:
            _record(target, requester, "check", "rate_limited", provider_sid=sid)
            raise RateLimited("too_many_checks", 60, field="code", keeps_audit=True) from None
        raise ProviderUnavailable("provider_unavailable.check") from None
    if not result.approved:
        _record(target, requester, "check", "wrong_code", provider_sid=sid)
        left = policy.max_checks - used - 1
        raise WrongCode("wrong_code", field="code", attempts_left=left, keeps_audit=True)
    return _record(target, requester, "check", "approved", provider_sid=sid)
