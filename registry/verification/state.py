"""Where a context's latest code stands, for pages that must not offer what a check would refuse.

The page offers the code-entry form only while a code waits to be entered: one
was sent, has not been used, has not expired and has not had too many wrong
tries. The state is read from the context's `Verification` row, the same row
and counts `check_code` decides by, so the page and the refusal cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.verification.limits import send_wait
from registry.verification.models import Verification
from registry.verification.operations import Target
from registry.verification.policy import Requester, VerificationPolicy

PENDING, LOCKED, EXPIRED, NONE = "pending", "locked", "expired", "none"


@dataclass(frozen=True)
class CodeState:
    """`kind`: `pending` (a code may be entered), `locked` (too many wrong tries),
    `expired`, or `none` (no code sent, or the last one was used); `send_wait`: seconds
    until a new code may be sent (0: now)."""

    kind: str
    send_wait: int

    @property
    def can_enter(self) -> bool:
        return self.kind == PENDING


def _kind(row: Verification | None, policy: VerificationPolicy, now: datetime) -> str:
    if row is None or row.status == "approved":
        return NONE
    if row.checks >= policy.max_checks:
        return LOCKED
    expired = now > as_utc(row.created_at) + timedelta(seconds=policy.code_ttl_seconds)
    return EXPIRED if row.status == "canceled" or expired else PENDING


def code_state(target: Target, requester: Requester, policy: VerificationPolicy,
               now: datetime | None = None) -> CodeState:
    """The state of the latest code in `target`'s context, and how long until another may be sent."""
    now = now or utcnow()
    row = db.session.scalar(
        select(Verification)
        .where(Verification.number_hash.in_(target.number_hashes), Verification.context == target.context)
        .order_by(Verification.id.desc()).limit(1)
        # The check in this very request counted by an UPDATE the loaded row does not see.
        .execution_options(populate_existing=True))
    wait, _limit = send_wait(target, requester, policy, now)
    return CodeState(_kind(row, policy, now), math.ceil(max(0.0, wait)))
