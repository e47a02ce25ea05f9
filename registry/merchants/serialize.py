"""JSON shapes of stores and numbers."""

from registry.core.phones import format_international
from registry.merchants.models import MerchantNumber
from registry.merchants.operations import PublicProfile


def iso(value):
    from registry.core.timeutil import as_utc

    return as_utc(value).isoformat() if value is not None else None


def number_for_owner(number: MerchantNumber) -> dict:
    """A number as its owner sees it: in full, with its status."""
    return {
        "id": number.id,
        "merchant_id": number.merchant_id,
        "number": format_international(number.e164),
        "masked": number.masked,
        "label": number.label,
        "status": number.status,
        "status_reason": number.status_reason,
        "line_type": number.line_type,
        "verification_channel": number.default_channel,
        "verified_at": iso(number.verified_at),
        "reverify_at": iso(number.reverify_at),
        "created_at": iso(number.created_at),
    }


def profile(p: PublicProfile) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "verified": p.verified,
        "callback_available": p.callback_available,
        "timezone": p.timezone,
        "business_hours": p.business_hours,
    }
