"""JSON shapes of callback requests (masked numbers only), as `core.openapi` models."""

from __future__ import annotations

from pydantic import Field

from registry.core.openapi import ApiModel, LenientModel, Timestamp
from registry.core.openapi.models import checked_by_operation

# Checked by `operations.parse_when`, whose refusals say what is wrong with the slot.
WHEN = {"description": "`\"asap\"` (the default), or a slot `{\"start\", \"end\"}` in ISO 8601 "
                        "with an offset; `end` defaults to start + 30 minutes.",
         "anyOf": [{"const": "asap"},
                   {"type": "object", "required": ["start"], "additionalProperties": False,
                    "properties": {"start": {"type": "string", "format": "date-time"},
                                   "end": {"type": "string", "format": "date-time"}}}]}
_TEXT = {"type": "string"}


class NewCallback(LenientModel):
    when: checked_by_operation(WHEN, optional=True) = None
    order_ref: checked_by_operation({**_TEXT, "maxLength": 64}, optional=True) = None
    note: checked_by_operation({**_TEXT, "maxLength": 500}, optional=True) = None


class CallSummary(ApiModel):
    """One leg of an attempt: masked numbers only."""

    id: int
    call_sid: str
    kind: str
    status: str
    from_: str | None = Field(alias="from")
    to: str | None
    duration: int | None
    started_at: Timestamp | None
    answered_at: Timestamp | None
    ended_at: Timestamp | None


class Attempt(ApiModel):
    number: int
    state: str
    outcome: str | None
    phase: str | None = Field(description="calling_store, calling_shopper or connected while on.")
    started_at: Timestamp | None
    ended_at: Timestamp | None
    calls: list[CallSummary]


class Window(ApiModel):
    start: Timestamp | None
    end: Timestamp | None


class Callback(ApiModel):
    """A callback request with its attempts and their calls."""

    id: int
    merchant_id: int
    status: str
    due_at: Timestamp | None
    asap: bool
    window: Window
    order_ref: str | None
    note: str | None
    reason: str | None
    attempts: list[Attempt]
    created_at: Timestamp | None
    ended_at: Timestamp | None
    call_phase: str | None = Field(description="Who is being called now, while a call is on.")
    waiting_reason: str | None = Field(description="Why a scheduled call waits, if it does.")


class Slot(ApiModel):
    start: Timestamp
    end: Timestamp


class Slots(ApiModel):
    """The slots a shopper may pick, or why none (`unavailable_reason`)."""

    items: list[Slot]
    next: str | None
    unavailable_reason: str | None
    shopper_timezone: str
