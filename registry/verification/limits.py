"""The platform's send limits on one-time codes, counted from `verification_attempts`.

Per number (one code a `resend_seconds`, so many an hour and a day), per
client address and per account. The per-number limits count shoppers' and
merchants' codes apart: the phone's holder is protected from floods either
way, and an anonymous party asking for shopper codes cannot use up the sends
a store needs to prove its own number (nor the other way round).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.verification.models import VerificationAttempt
from registry.verification.policy import Requester, VerificationPolicy

# The refusal for each limit `send_wait` names (public code `too_many_codes`).
LIMIT_CODES = {
    "resend": "too_many_codes.resend",
    "number": "too_many_codes.number",
    "ip": "too_many_codes.ip",
    "account": "too_many_codes.account",
    "pending": "too_many_codes.pending",
}


def _sent_times(since: datetime, *conditions) -> list[datetime]:
    query = (
        select(VerificationAttempt.created_at)
        .where(*conditions, VerificationAttempt.action == "send")
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


def send_wait(target, requester: Requester, policy: VerificationPolicy, now=None):
    """Seconds to wait before a code may be sent to `target`, and which limit holds."""
    now = now or utcnow()
    day = timedelta(days=1)
    by_number = _sent_times(now - day, VerificationAttempt.number_hash.in_(target.number_hashes),
                            VerificationAttempt.subject == target.subject)
    waits = [
        (_window_wait(by_number, 1, timedelta(seconds=policy.resend_seconds), now), "resend"),
        (_window_wait(by_number, policy.sends_per_number_hour, timedelta(hours=1), now), "number"),
        (_window_wait(by_number, policy.sends_per_number_day, day, now), "number"),
    ]
    if requester.ip:
        by_ip = _sent_times(now - timedelta(hours=1), VerificationAttempt.ip == requester.ip)
        waits.append(
            (_window_wait(by_ip, policy.sends_per_ip_hour, timedelta(hours=1), now), "ip")
        )
    if requester.user_id is not None:
        by_user = _sent_times(now - day, VerificationAttempt.user_id == requester.user_id)
        waits.append((_window_wait(by_user, policy.sends_per_account_day, day, now), "account"))
    return max(waits)
