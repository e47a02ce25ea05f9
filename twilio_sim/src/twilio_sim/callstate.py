"""The voice side of `SimulatorState`: calls, scripts, and what a person or a test can do.

`SimulatorState` mixes this in. Calls themselves run in the call engine's
threads (`engine.CallEngine`, attached to the state by
`create_simulator_app`); everything here either reads snapshots or raises a
flag under the state's lock and wakes the call's thread through
`state.changed`, the condition every change is announced on (a call thread
is woken by changes to the legs it watches).
"""

from __future__ import annotations

from twilio_sim.legs import (
    FINAL_STATUSES,
    CallSnapshot,
    Leg,
    Recording,
    snapshot,
)
from twilio_sim.scripts import CallScript, manual_script


class VoiceStateMixin:
    """Calls, recordings and per-number scripts; needs `lock`, `changed` and `voice`."""

    def _reset_voice(self) -> None:
        # A new generation tells running call threads to stop quietly: a
        # reset between tests must not let one test's call post into the next.
        self.voice_generation = getattr(self, "voice_generation", 0) + 1
        self.legs: dict[str, Leg] = {}
        self.recordings: dict[str, Recording] = {}
        self.scripts: dict[str, CallScript] = {}
        self.changed.notify_all()

    # -- scripts ----------------------------------------------------------

    def script(self, e164: str, script: CallScript | None = None, **behaviour) -> CallScript:
        """Script how `e164` behaves on calls from now on; returns the `CallScript`.

        `state.script("+8613800138000", answer_after=2, hangup_after=30, digits="1")`
        """
        script = script if script is not None else CallScript(**behaviour)
        with self.lock:
            self.scripts[e164] = script
        return script

    def script_for(self, e164: str) -> CallScript:
        """The script for `e164`, or the manual behaviour if none was set."""
        with self.lock:
            return self.scripts.get(e164) or manual_script()

    # -- reading calls ------------------------------------------------------

    def calls(self) -> list[CallSnapshot]:
        """Every call leg, oldest first."""
        with self.lock:
            legs = sorted(self.legs.values(), key=lambda leg: leg.created_at)
            return [snapshot(leg, self.recordings) for leg in legs]

    def call(self, sid: str) -> CallSnapshot:
        """One call leg; KeyError if the simulator never saw `sid`."""
        with self.lock:
            return snapshot(self.legs[sid], self.recordings)

    def calls_for_phone(self, e164: str) -> list[CallSnapshot]:
        """Legs whose far end is the phone `e164`, newest first."""
        with self.lock:
            legs = [leg for leg in self.legs.values() if leg.party == e164]
            legs.sort(key=lambda leg: leg.created_at, reverse=True)
            return [snapshot(leg, self.recordings) for leg in legs]

    def recording(self, sid: str) -> Recording:
        """A copy of one recording; KeyError if unknown."""
        with self.lock:
            return Recording(**vars(self.recordings[sid]))

    def wait_for_call(self, sid: str, statuses=FINAL_STATUSES, timeout: float = 5.0) -> CallSnapshot:
        """Block until leg `sid` has one of `statuses`; TimeoutError after `timeout` real seconds.

        A final status is set before that leg's `completed` callback is
        sent; use `wait_idle` to wait for the callbacks as well.
        """
        statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
        with self.changed:
            reached = self.changed.wait_for(
                lambda: sid in self.legs and self.legs[sid].status in statuses, timeout
            )
            if not reached:
                current = self.legs[sid].status if sid in self.legs else "unknown"
                raise TimeoutError(f"call {sid} is {current}, not {'/'.join(statuses)}")
            return snapshot(self.legs[sid], self.recordings)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until every call has ended and every callback was delivered."""
        engine = getattr(self, "voice", None)
        if engine is not None and not engine.wait_idle(timeout):
            live = [leg.sid for leg in self.legs.values() if not leg.ended]
            raise TimeoutError(f"calls still running after {timeout} s: {live or 'callbacks pending'}")

    # -- acting as the person at a phone -----------------------------------

    def answer(self, sid: str) -> bool:
        """Pick up a ringing leg; False if it is not ringing."""
        return self._request(sid, lambda leg: leg.status == "ringing", answer_requested=True)

    def decline(self, sid: str) -> bool:
        """Decline a ringing leg (the caller hears busy); False if it is not ringing."""
        return self._request(sid, lambda leg: leg.status == "ringing", decline_requested=True)

    def hangup(self, sid: str) -> bool:
        """Hang up as the party on leg `sid` (declines if still ringing); False if it has ended."""
        with self.lock:
            leg = self.legs[sid]
            if leg.status == "ringing" and leg.direction != "inbound":
                return self.decline(sid)
        return self._request(sid, lambda leg: not leg.ended, hangup_requested="party")

    def press(self, sid: str, digits: str) -> bool:
        """Press keys on the party's keypad during leg `sid`; False if it is not live."""
        with self.lock:
            leg = self.legs[sid]
            if leg.status != "in-progress":
                return False
            leg.dtmf += "".join(ch for ch in str(digits) if ch in "0123456789*#")
            self.changed.notify_all([leg])
            return True

    def start_inbound_call(self, from_e164: str, to_e164: str) -> str:
        """The phone `from_e164` calls the account's number `to_e164`; returns the call sid.

        The number's VoiceUrl is fetched as Twilio would; a number the
        account does not own, or one with no VoiceUrl, fails the call at
        once with the reason in `call(sid).error`.
        """
        engine = getattr(self, "voice", None)
        if engine is None:
            raise RuntimeError("no simulator app runs this state; create_simulator_app attaches one")
        return engine.start_inbound(from_e164, to_e164).sid

    def _request(self, sid: str, allowed, **flags) -> bool:
        with self.lock:
            leg = self.legs[sid]
            if not allowed(leg):
                return False
            for name, value in flags.items():
                setattr(leg, name, value)
            leg.updated_at = self.clock()
            self.changed.notify_all([leg])
            return True
