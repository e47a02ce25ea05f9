"""Whether a number's verification page may offer the code-entry form.

The page offers it only while a code waits to be entered: one was sent, has not
been used, has not expired and has not had too many wrong tries. Otherwise it
says what to do (ask for a new code, after the wait a sending limit imposes).
The state is read from `verification_attempts` with the same counts the check
itself applies (`registry.verification.operations`), so the page and the
refusal cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from registry.core.timeutil import utcnow
from registry.merchants.models import MerchantNumber
from registry.merchants.operations import _target
from registry.verification import operations as codes
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


def code_state(number: MerchantNumber, requester: Requester, policy: VerificationPolicy,
               now: datetime | None = None) -> CodeState:
    """The state of the number's latest code, and how long until another may be sent."""
    now = now or utcnow()
    target = _target(number)
    wait, _limit = codes.send_wait(target, requester, policy, now)
    current = codes._current_code(target)
    if current is None:
        kind = NONE
    else:
        sid, started = current
        if codes._checks_against(sid, "approved"):
            kind = NONE
        elif (codes._checks_against(sid, "wrong_code") >= policy.max_checks
              or codes._checks_against(sid, "rate_limited")):  # ours, or Twilio's 60202
            kind = LOCKED
        elif now > started + timedelta(seconds=policy.code_ttl_seconds):
            kind = EXPIRED
        else:
            kind = PENDING
    return CodeState(kind, math.ceil(max(0.0, wait)))
