"""What a scheduler's dispatch pass is told: its settings and the webhook URLs it hands Twilio.

Kept apart from `dispatch` and `placing` so that both can read them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class DispatchSettings:
    worker: str  # this scheduler process's name, e.g. "host:pid"
    lease: timedelta = timedelta(seconds=120)
    calls_per_second: float = 1.0  # 0 = unthrottled
    batch: int = 50
    # How far ahead a pass waits for requests falling due, and how much work a claim takes on
    # (what the pass places in that time); 0: a pass claims one batch only.
    pass_seconds: float = 1.5
    binding_ttl: timedelta = timedelta(hours=72)
    proxy_cap: int = 200
    max_attempts: int = 3
    backoff: timedelta = timedelta(seconds=300)
    shopper_call_hours: str = "08:00-21:00"


class Urls:
    """Absolute webhook URLs for an attempt (built by the caller, who knows the app)."""

    def __init__(self, base: str):
        self.base = base

    def answer(self, attempt_id: int) -> str:
        return f"{self.base}/webhooks/twilio/callback/answer?attempt={attempt_id}"

    def status(self, attempt_id: int, leg: str) -> str:
        return f"{self.base}/webhooks/twilio/callback/status?attempt={attempt_id}&leg={leg}"


def settings_from_config(config, worker: str) -> DispatchSettings:
    return DispatchSettings(
        worker=worker, calls_per_second=float(config["OUTBOUND_CPS"]),
        binding_ttl=timedelta(hours=config["BINDING_TTL_HOURS"]), proxy_cap=config["PROXY_NUMBER_CAP"],
        max_attempts=config["CALLBACK_MAX_ATTEMPTS"],
        backoff=timedelta(seconds=config["CALLBACK_RETRY_BACKOFF_SECONDS"]),
        shopper_call_hours=config["SHOPPER_CALL_HOURS"],
    )
