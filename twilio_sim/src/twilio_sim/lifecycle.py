"""One call's thread: its simulated timeline, ringing, answering, ending, and status callbacks.

Time on a call is simulated. `run.t` counts simulated seconds since the
call started and moves only while the call waits for something: ringing,
speech, a pause, a person. Each wait takes `seconds * state.time_scale`
real seconds, so tests run a 30-second call in a third of a second. Time
spent on HTTP (fetching TwiML, posting callbacks) is not counted: Twilio's
latency is not the app's business, and it keeps a scripted call's
durations exact (answer after 2 s, hang up 5 s later: duration 5).

Scripted moments (a party answers, hangs up) happen exactly at their
simulated time; outside requests (a click on the phones page, a REST
update) happen at the simulated time their real arrival corresponds to.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from twilio_sim.callbacks import CallbacksMixin
from twilio_sim.interpreter import Interpreter
from twilio_sim.legs import Leg
from twilio_sim.twiml import Goto

log = logging.getLogger(__name__)

FOREVER = math.inf


class CallAborted(Exception):
    """The state was reset under a running call: stop without another word."""


@dataclass
class Event:
    """Something that interrupts a wait: "hangup", "redirect", "digits", "answer" or "decline"."""

    kind: str
    leg: Leg
    reason: str | None = None


class CallRun(CallbacksMixin):
    """Drives one call (a leg and any legs it dials) from its own thread."""

    def __init__(self, engine, leg: Leg, origin: float | None = None):
        self.engine = engine
        self.state = engine.state
        self.leg = leg
        self.scale = max(float(self.state.time_scale), 1e-6)
        self.generation = self.state.voice_generation
        self.origin = self.state.clock() if origin is None else origin
        self.t = 0.0

    def main(self, mode: str, **kwargs) -> None:
        """The thread's body: run the call in `mode`, whatever happens."""
        try:
            # Twilio's first request comes after the REST response reached the caller.
            time.sleep(self.engine.webhooks.delay)
            getattr(self, f"_run_{mode}")(**kwargs)
        except CallAborted:
            pass
        except Exception as exc:  # a simulator bug must show on the call, not vanish with the thread
            log.exception("simulated call %s crashed", self.leg.sid)
            with self.state.changed:
                self.leg.error = f"simulator error: {exc!r}"
                children = [self.state.legs.get(sid) for sid in self.leg.children]
                for leg in [self.leg, *children]:
                    if leg is not None and not leg.ended:
                        leg.status, leg.end_time = "failed", self.wall()
                self.state.changed.notify_all()

    def _run_outbound(self) -> None:
        leg = self.leg
        answered, _ = self.ring([leg], leg.timeout)
        if answered is not None:
            # Url or Twiml may have been updated while the call rang.
            self.play(leg, Goto(leg.url, leg.method, {}, leg.twiml), (leg.fallback_url, leg.fallback_method))

    def _run_inbound(self) -> None:
        leg = self.leg
        self.set_status(leg, "ringing", "ringing")
        self.play(leg, Goto(leg.url, leg.method), (leg.fallback_url, leg.fallback_method))

    def _run_failed(self) -> None:
        self.callback(self.leg, "completed")

    def _run_resume(self, goto: Goto) -> None:
        self.play(self.leg, goto)

    def play(self, leg: Leg, start: Goto, fallback: tuple[str, str] | None = None) -> None:
        """Play the app's TwiML on `leg` from `start` until the call ends, then end it."""
        outcome = Interpreter(self, leg).play(start, fallback)
        status = outcome.status if outcome is not None and outcome.status else None
        self.finish(leg, status or ("completed" if leg.answered_at is not None else "canceled"))

    # -- the timeline ---------------------------------------------------------

    def wall(self) -> float:
        """The wall-clock time (state.clock's scale) at the call's present moment."""
        return self.origin + self.t

    def check(self) -> None:
        """Raise CallAborted if the state was reset since the call began."""
        if self.state.voice_generation != self.generation:
            raise CallAborted

    def wait(self, seconds: float | None, watch=(), digits_leg: Leg | None = None,
             ringing=()) -> Event | None:
        """Let `seconds` simulated seconds pass (None: until something happens).

        Returns None when they passed, or the first Event: a watched leg's
        party hanging up (scripted or not), a hang-up or redirect requested
        from outside, keys pressed on `digits_leg`, or an answer / decline on
        one of the `ringing` legs. `self.t` is left at the moment it happened.
        """
        until = self.t + seconds if seconds is not None else FOREVER
        legs = {leg.sid for leg in (*watch, *ringing)} | ({digits_leg.sid} if digits_leg else set())
        with self.state.changed, self.state.changed.watching(legs) as waiter:
            anchor_real, anchor_t = time.monotonic(), self.t
            while True:
                self.check()
                now = anchor_t + (time.monotonic() - anchor_real) / self.scale
                due = [leg for leg in watch if leg.hangup_at is not None and leg.answered_at is not None]
                first = min(due, key=lambda leg: leg.hangup_at, default=None)
                if first is not None and first.hangup_at <= min(now, until):
                    self.t = max(first.hangup_at, anchor_t)
                    return Event("hangup", first, "party")
                event = self._pending(watch, digits_leg, ringing)
                if event is not None:
                    self.t = max(anchor_t, min(now, until))
                    return event
                if now >= until:
                    self.t = until
                    return None
                target = min(until, first.hangup_at if first is not None else FOREVER)
                waiter.wait(min((target - now) * self.scale, 1.0))

    @staticmethod
    def _pending(watch, digits_leg: Leg | None, ringing) -> Event | None:
        for leg in ringing:
            if leg.hangup_requested:
                return Event("hangup", leg, leg.hangup_requested)
            if leg.answer_requested:
                return Event("answer", leg)
            if leg.decline_requested:
                return Event("decline", leg)
        for leg in watch:
            if leg.hangup_requested:
                return Event("hangup", leg, leg.hangup_requested)
            if leg.redirect:
                return Event("redirect", leg)
        if digits_leg is not None and digits_leg.dtmf:
            return Event("digits", digits_leg)
        return None

    # -- a leg's life -------------------------------------------------------------

    def update(self, leg: Leg, **fields) -> None:
        """Change `leg` under the lock and tell everyone waiting."""
        with self.state.changed:
            self.check()
            for name, value in fields.items():
                setattr(leg, name, value)
            leg.updated_at = self.wall()
            self.state.changed.notify_all([leg])

    def note(self, leg: Leg, line: str) -> None:
        """Add a line to `leg`'s transcript."""
        with self.state.lock:
            leg.note(line)

    def set_status(self, leg: Leg, status: str, event: str | None = None) -> None:
        """Move `leg` to `status` and send the status callback `event`, if subscribed."""
        self.update(leg, status=status)
        if event:
            self.callback(leg, event)

    def ring(self, legs: list[Leg], timeout: float, caller: Leg | None = None):
        """Dial `legs` at once until one answers: (answered leg or None, caller's Event or None).

        Legs that do not answer get their final status here; so do the other
        legs once one answers. An event on `caller` (hang-up, redirect)
        cancels the ringing and is returned for the caller's verb to handle.
        """
        start, timeout_at = self.t, self.t + timeout
        plan, pending = {}, []
        for leg in legs:
            self.update(leg, status="initiated", start_time=self.wall())
            self.callback(leg, "initiated")
        for leg in legs:
            script = leg.script
            if script.outcome == "failed":
                self.finish(leg, "failed")
                continue
            if script.outcome == "busy":
                plan[leg] = (start + script.answer_after, "busy")
            else:
                self.set_status(leg, "ringing", "ringing")
                answers = script.outcome == "answer"
                plan[leg] = (start + script.answer_after, "answer") if answers else (FOREVER, "")
            pending.append(leg)
        answered = None
        while pending and answered is None:
            leg = min(pending, key=lambda candidate: plan[candidate][0])
            when, what = plan[leg]
            event = self.wait(min(when, timeout_at) - self.t, [caller] if caller else [], ringing=pending)
            if event is None and when < timeout_at:
                if what == "busy":
                    self.finish(leg, "busy")
                    pending.remove(leg)
                else:
                    answered = leg
            elif event is None:
                for leg in pending:
                    self.finish(leg, "no-answer")
                return None, None
            elif event.kind == "answer":
                answered = event.leg
            elif event.leg in pending:
                self.finish(event.leg, "busy" if event.kind == "decline" else "canceled")
                pending.remove(event.leg)
            else:
                for leg in pending:
                    self.finish(leg, "canceled")
                return None, event
        for leg in pending:
            if leg is not answered:
                self.finish(leg, "canceled")
        if answered is not None:
            self.answer(answered)
        return answered, None

    def answer(self, leg: Leg) -> None:
        """The party (or, inbound, the app) picks up: in-progress from now."""
        hangup_at = self.t + leg.time_limit
        if leg.script.hangup_after is not None:
            hangup_at = min(hangup_at, self.t + leg.script.hangup_after)
        self.update(leg, status="in-progress", answered_at=self.t, hangup_at=hangup_at,
                    answer_requested=False, start_time=leg.start_time or self.wall())
        self.note(leg, f"answered at {self.t:g} s")
        self.callback(leg, "answered")

    def finish(self, leg: Leg, status: str) -> None:
        """End `leg` with final `status` now, recording it if asked, and report it."""
        if leg.ended:
            return
        duration = round(self.t - leg.answered_at) if leg.answered_at is not None else 0
        self.update(leg, status=status, end_time=self.wall(), duration=duration,
                    start_time=leg.start_time or self.wall())
        self.note(leg, f"{status} at {self.t:g} s, duration {duration} s")
        recording = None
        if leg.record and leg.answered_at is not None and duration > 0:
            recording = self.make_recording(leg, duration, leg.answered_at, "OutboundAPI")
        self.callback(leg, "completed", recording)
        if recording is not None:
            self.recording_callback(recording, leg.recording_status_callback,
                                    leg.recording_status_callback_method)

    def detach(self, leg: Leg) -> None:
        """Let a bridged `leg` that was redirected go on alone, in a thread of its own."""
        url, method, twiml = leg.redirect
        with self.state.changed:
            # Its new run starts its timeline now; keep its times relative to that.
            leg.answered_at -= self.t
            leg.hangup_at = None if leg.hangup_at is None else leg.hangup_at - self.t
            leg.redirect = None
        self.engine.spawn(leg, "resume", goto=Goto(url, method, {}, twiml), timeline={"origin": self.wall()})
