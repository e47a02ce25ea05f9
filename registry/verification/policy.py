"""The limits on one-time codes, as plain values read from configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class VerificationPolicy:
    code_ttl_seconds: int = 600
    max_checks: int = 5
    resend_seconds: int = 60
    sends_per_number_hour: int = 5
    sends_per_number_day: int = 10
    sends_per_ip_hour: int = 20
    sends_per_account_day: int = 30

    @classmethod
    def from_config(cls, config: Mapping) -> VerificationPolicy:
        return cls(
            code_ttl_seconds=config["VERIFY_CODE_TTL_SECONDS"],
            max_checks=config["VERIFY_MAX_CHECKS"],
            resend_seconds=config["VERIFY_RESEND_SECONDS"],
            sends_per_number_hour=config["VERIFY_SENDS_PER_NUMBER_HOUR"],
            sends_per_number_day=config["VERIFY_SENDS_PER_NUMBER_DAY"],
            sends_per_ip_hour=config["VERIFY_SENDS_PER_IP_HOUR"],
            sends_per_account_day=config["VERIFY_SENDS_PER_ACCOUNT_DAY"],
        )


@dataclass(frozen=True)
class Requester:
    """Who asked for a code: the limits apply per IP and per account too."""

    ip: str | None = None
    user_id: int | None = None
