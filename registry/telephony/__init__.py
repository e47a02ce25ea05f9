"""Telephony: the only package that imports `twilio`.

Everything else talks to `TelephonyGateway` (`get_gateway()`), which speaks
plain values and raises `ProviderError`, never a Twilio SDK exception.
"""

from flask import Flask, current_app

from registry.telephony.gateway import (
    CheckResult,
    ProviderError,
    RefusedHost,
    TelephonyGateway,
    VerificationNotFound,
)
from registry.telephony.numbers import NUMBER_NOT_AVAILABLE, AvailableNumber, BoughtNumber

__all__ = [
    "NUMBER_NOT_AVAILABLE",
    "AvailableNumber",
    "BoughtNumber",
    "CheckResult",
    "ProviderError",
    "RefusedHost",
    "TelephonyGateway",
    "VerificationNotFound",
    "get_gateway",
    "init_telephony",
]


def init_telephony(app: Flask) -> None:
    """Create the app's gateway from its Twilio configuration."""
    app.extensions["telephony"] = TelephonyGateway(
        account_sid=app.config["TWILIO_ACCOUNT_SID"],
        auth_token=app.config["TWILIO_AUTH_TOKEN"],
        verify_service_sid=app.config["TWILIO_VERIFY_SERVICE_SID"],
        api_url=app.config["TWILIO_API_URL"] or None,
    )


def get_gateway() -> TelephonyGateway:
    return current_app.extensions["telephony"]
