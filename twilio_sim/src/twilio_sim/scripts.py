"""How a simulated phone behaves when a call reaches it: scripted for tests, manual for demos.

A `CallScript` belongs to one number (`state.script("+86138...", ...)`) and
is read whenever that number is the party on a call leg: the callee of an
outbound call or of a `<Dial>`, or the caller of an inbound call. Numbers
nobody scripted behave as a person would on the phones page: the call rings
until someone clicks Answer or Decline (or the timeout passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OUTCOMES = ("answer", "busy", "no-answer", "failed", "manual")


@dataclass
class CallScript:
    """What the person at one number does, in simulated seconds.

    - `answer_after`: seconds of ringing before answering (outcome "answer"),
      or before the busy signal (outcome "busy"). A call whose timeout comes
      first is not answered ("no-answer").
    - `outcome`: "answer", "busy", "no-answer", "failed", or "manual" (wait
      for `state.answer` / `state.decline` or the phones page).
    - `hangup_after`: seconds from answering until this party hangs up; None
      stays on the line until the other side or the app ends the call.
    - `digits`: what the party presses at a `<Gather>`: one string for every
      Gather, or a sequence with one entry per Gather in order (None or ""
      presses nothing at that one). None waits for `state.press`.
    - `talk_seconds`: how long the party speaks when a `<Record>` starts.
    """

    answer_after: float = 2.0
    outcome: str = "answer"
    hangup_after: float | None = None
    digits: str | Sequence[str | None] | None = None
    talk_seconds: float = 3.0

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")
        if self.answer_after < 0 or (self.hangup_after is not None and self.hangup_after < 0):
            raise ValueError("answer_after and hangup_after cannot be negative")

    @property
    def manual(self) -> bool:
        """Whether a person (the phones page, or a test acting as one) decides."""
        return self.outcome == "manual"

    def digits_for(self, gather_index: int) -> str | None:
        """The digits pressed at the `gather_index`-th Gather of a leg (0-based), or None."""
        if self.digits is None or isinstance(self.digits, str):
            return self.digits or None
        if gather_index < len(self.digits):
            return self.digits[gather_index] or None
        return None


def manual_script() -> CallScript:
    """The behaviour of a number nobody scripted: a person on the phones page."""
    return CallScript(outcome="manual")
