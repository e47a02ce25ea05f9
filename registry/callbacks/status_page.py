"""What a callback's status page shows its shopper: the request in words, in the
shopper's zone, with who is being called right now and why a scheduled call waits.

The page's script polls `GET /api/v1/callbacks/<id>` and redraws `#callback-state`
when the JSON's signature differs from the page's, so `signature` is built from
the same JSON (`serialize.callback`) the script reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext

from registry.callbacks import serialize
from registry.callbacks.forms import callback_text, local_moment, waiting_text, zone_name
from registry.callbacks.models import FINAL_STATUSES
from registry.core.i18n import N_
from registry.core.phones import format_international

OUTCOMES = {
    None: N_("under way"),
    "not_placed": N_("the call was not placed"),
    "provider_error": N_("the call could not be placed"),
    "merchant_busy": N_("the store's line was busy"),
    "merchant_no_answer": N_("the store did not answer"),
    "merchant_failed": N_("the call to the store did not go through"),
    "merchant_did_not_connect": N_("the store did not take the call"),
    "completed": N_("you talked with the store"),
    "shopper_busy": N_("your line was busy"),
    "shopper_no-answer": N_("you did not answer"),
    "shopper_failed": N_("the call to you did not go through"),
    "shopper_canceled": N_("the call to you was cut off"),
}
CANCELABLE = ("requested", "scheduled")
STATUS_WORDS = {"requested": N_("Requested"), "calling": N_("Calling the store…"),
                "connected": N_("Connected"), "completed": N_("Completed"), "failed": N_("Failed"),
                "expired": N_("Expired"), "canceled": N_("Canceled")}


@dataclass(frozen=True)
class AttemptLine:
    seq: int
    started: str
    outcome: str


@dataclass(frozen=True)
class StatusView:
    """A request as its shopper sees it: in words, in the shopper's zone, no store number."""

    status: str
    phase: str | None  # serialize.CALLING_STORE, CALLING_SHOPPER, CONNECTED while a call is on
    headline: str
    waiting: str  # why a scheduled call comes when it does ("" when nothing holds it back)
    note: str
    attempts: list[AttemptLine]
    calls_from: str | None
    can_cancel: bool
    final: bool
    signature: str


def _headline(request, phase: str | None, zone: str) -> str:
    status, reason = request.status, callback_text(request.reason)
    if status == "scheduled":
        return gettext("Scheduled for %(when)s (%(zone)s)", when=local_moment(request.due_at, zone),
                       zone=zone_name(zone))
    if status == "calling" and phase == serialize.CALLING_SHOPPER:
        return gettext("Calling you now…")
    if status in ("failed", "expired") and reason:
        template = N_("Failed — %(reason)s") if status == "failed" else N_("Expired — %(reason)s")
        return gettext(template, reason=reason)
    return gettext(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def signature(data: dict) -> str:
    """What the page's script computes from the status JSON (`serialize.callback`) to notice
    a change: the status, the due time, the reason and each attempt's state, outcome and phase
    (who is being called: the store, or the shopper)."""
    attempts = [[a["state"], a["outcome"], a["phase"]] for a in data["attempts"]]
    return json.dumps([data["status"], data["due_at"], data["reason"], attempts],
                      separators=(",", ":"), ensure_ascii=False)


def _outcome(outcome: str | None) -> str:
    return gettext(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome.replace("_", " ")


def status_view(request, zone: str, waiting=None, call_hours: str = "08:00-21:00",
                now=None) -> StatusView:
    """The status page's content for `request`, times in `zone` (the shopper's); `waiting`
    is `operations.request_waiting`'s answer for it."""
    data = serialize.callback(request).model_dump(mode="json", by_alias=True)
    phase = data["call_phase"]
    last = request.attempts[-1] if request.attempts else None
    return StatusView(
        status=request.status, phase=phase, headline=_headline(request, phase, zone),
        waiting=waiting_text(waiting, zone, call_hours, now),
        note=callback_text(request.reason) if request.status in CANCELABLE else "",
        attempts=[AttemptLine(a.seq, local_moment(a.created_at, zone), _outcome(a.outcome))
                  for a in request.attempts],
        calls_from=format_international(last.proxy_number) if last else None,
        can_cancel=request.status in CANCELABLE, final=request.status in FINAL_STATUSES,
        signature=signature(data))
