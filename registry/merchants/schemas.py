"""JSON shapes of stores and numbers (`core.openapi` models: they validate what comes in and are
what goes out)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from registry.core.openapi import ApiModel, CodeText, LenientModel, PhoneText, Text, Timestamp
from registry.core.openapi.models import checked_by_operation
from registry.core.phones import format_international
from registry.core.urls import LARGEST_ID
from registry.merchants.models import MerchantNumber
from registry.merchants.operations import PublicProfile

# Checked by `merchants.hours` and `core.zones`, whose refusals name the day or the zone.
_HOURS = {
    "type": "object", "description": "Opening hours per day: `{\"mon\": [[\"09:00\", \"18:00\"]], ...}`; "
                                     "days mon..sun, each a list of [open, close] pairs.",
    "additionalProperties": {"type": "array", "items": {"type": "array", "items": {"type": "string"},
                                                        "minItems": 2, "maxItems": 2}}}
_ZONE = {"type": "string", "examples": ["Asia/Shanghai"], "description": "An IANA time zone."}
StoreName = checked_by_operation({"type": "string", "maxLength": 100})


class StoreReference(ApiModel):
    """A client's request naming a store by `merchant_id` or by its own `merchant_external_id`
    (one of them; `operations.merchant_for_client` refuses both or neither, naming the field)."""

    merchant_id: int | None = Field(None, ge=1, le=LARGEST_ID, description="The store's id here.")
    merchant_external_id: Text(100) | None = Field(None, description="Your own id of the store "
                                                   "(set on import).")


class NewStore(LenientModel):
    name: StoreName
    timezone: checked_by_operation(_ZONE, optional=True) = None
    business_hours: checked_by_operation(_HOURS, optional=True) = None


class StoreProfile(ApiModel):
    """What anyone may see of a store: never a real number."""

    id: int
    name: str
    verified: bool
    callback_available: bool
    timezone: str
    business_hours: dict[str, Any]

    @classmethod
    def of(cls, profile: PublicProfile) -> StoreProfile:
        return cls(id=profile.id, name=profile.name, verified=profile.verified,
                   callback_available=profile.callback_available, timezone=profile.timezone,
                   business_hours=profile.business_hours)


class NewNumber(LenientModel):
    number: PhoneText
    region: checked_by_operation({"type": "string", "examples": ["CN"],
                                  "description": "ISO country for a number typed without +."},
                                 optional=True) = None
    label: str | None = Field(None, max_length=200)


class NumberForOwner(ApiModel):
    """A number as its owner sees it: in full, with its status."""

    id: int
    merchant_id: int
    number: str
    masked: str
    label: str | None
    status: str
    status_reason: str | None
    line_type: str
    verification_channel: str
    verified_at: Timestamp | None
    reverify_at: Timestamp | None
    created_at: Timestamp

    @classmethod
    def of(cls, number: MerchantNumber) -> NumberForOwner:
        return cls(id=number.id, merchant_id=number.merchant_id, number=format_international(number.e164),
                   masked=number.masked, label=number.label, status=number.status,
                   status_reason=number.status_reason, line_type=number.line_type,
                   verification_channel=number.default_channel, verified_at=number.verified_at,
                   reverify_at=number.reverify_at, created_at=number.created_at)


class SendCode(LenientModel):
    channel: checked_by_operation({"type": "string", "enum": ["sms", "call"]}, optional=True) = None


class VerificationStarted(ApiModel):
    status: str
    channel: str
    resend_after_seconds: int
    expires_in_seconds: int


class CodeCheck(LenientModel):
    code: CodeText


# Checked by `merchants.embed.parse_origin`, whose refusals name the item (`origins.0`).
OriginText = checked_by_operation({"type": "string", "maxLength": 255,
                                   "examples": ["https://shop.example.com"]})


class EmbedOriginsUpdate(ApiModel):
    """The whole list of sites that may embed the store's callback button (it replaces the old)."""

    origins: list[OriginText] = Field(description="Web origins, `https://host[:port]`, no path; at "
                                                  "most 20. An empty list stops every embedding.")


class EmbedOrigins(ApiModel):
    """The sites that may embed the store's callback button."""

    merchant_id: int
    origins: list[str]
