"""`<Dial>`: place child legs from a call, ring them, whisper, bridge, and report to `action`.

Each `<Number>` (or the plain-text number) becomes a child leg: direction
"outbound-dial", `parent_call_sid` the dialling call, From the `callerId`
(else the parent's From, as Twilio passes the caller's ID through), To the
number. The children ring at once; the first to answer hears the
`<Number url>` whisper, if any, and is then bridged with the parent until
either side hangs up. Then `action` is requested with DialCallStatus,
DialCallSid, DialCallDuration (and the recording, when `record` asked for
one), and the call goes on with the TwiML it returns; without `action`,
with the verb after `<Dial>`.
"""

from __future__ import annotations

import re

from twilio_sim.engine import parse_events
from twilio_sim.formats import is_e164
from twilio_sim.scripts import CallScript
from twilio_sim.twiml import ApplicationError, Ended, Goto, attribute, resolve

# Dial's record attribute: when the recording starts, and its channels.
RECORD_MODES = {
    "true": ("answer", 1),
    "record-from-answer": ("answer", 1),
    "record-from-answer-dual": ("answer", 2),
    "record-from-ringing": ("ringing", 1),
    "record-from-ringing-dual": ("ringing", 2),
}
UNSUPPORTED_NOUNS = {"Application", "Client", "Conference", "Queue", "Sip", "WhatsApp"}
NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")


def dial(interp, verb, url: str | None) -> Goto | Ended | None:
    """Run one `<Dial>` on the interpreter's leg (the parent)."""
    parent, run = interp.leg, interp.run
    action = resolve(url, verb.get("action"))
    method = verb.get("method", "POST").upper()
    timeout = attribute(verb, "timeout", 30)
    time_limit = attribute(verb, "timeLimit", 14400)
    caller_id = verb.get("callerId") or parent.from_
    targets = _targets(verb)
    if verb.get("callerId") and not _may_show(run.state, parent, caller_id):
        # Twilio 13214: the Dial fails and the call goes on.
        interp.note(f"13214: Dial: invalid callerId {caller_id}, not a number of this account")
        return _report(interp, action, method, {"DialCallStatus": "failed", "DialCallDuration": "0"})
    children = [_child(interp, url, number, attrs, caller_id, time_limit) for number, attrs in targets]
    interp.note(f"<Dial> {', '.join(leg.to for leg, _ in children)} showing caller ID {caller_id}")
    dial_start = run.t
    answered, event = run.ring([leg for leg, _ in children], timeout, caller=parent)
    if event is not None:
        params = {"DialCallStatus": "canceled", "DialCallSid": children[0][0].sid, "DialCallDuration": "0"}
        return _caller_left(interp, event, action, method, params)
    if answered is None:
        status = _unanswered_status([leg.status for leg, _ in children])
        params = {"DialCallStatus": status, "DialCallSid": children[0][0].sid, "DialCallDuration": "0"}
        return _report(interp, action, method, params)
    if parent.answered_at is None:
        run.answer(parent)  # answerOnBridge: the caller is answered with the callee
    attrs = next(attrs for leg, attrs in children if leg is answered)
    mode = RECORD_MODES.get(verb.get("record", "do-not-record"))
    record_from = dial_start if mode and mode[0] == "ringing" else run.t
    bridged, event = _whisper(interp, answered, attrs, url)
    if bridged:
        interp.note(f"bridged with {answered.to}")
        event = run.wait(None, [parent, answered])
    duration = round(run.t - answered.answered_at)
    if event is not None and event.leg is answered and event.kind == "redirect":
        run.detach(answered)  # the callee leaves the bridge for its own TwiML
    else:
        run.finish(answered, "completed")
    params = {"DialCallStatus": "completed", "DialCallSid": answered.sid,
              "DialCallDuration": str(duration), "DialBridged": "true" if bridged else "false"}
    if mode:
        recording = run.make_recording(parent, run.t - record_from, record_from, "DialVerb", mode[1])
        run.recording_callback(recording, resolve(url, verb.get("recordingStatusCallback")),
                               verb.get("recordingStatusCallbackMethod", "POST"))
        params.update(RecordingUrl=recording.url, RecordingSid=recording.sid,
                      RecordingDuration=str(recording.duration))
    if event is not None and event.leg is parent:
        return _caller_left(interp, event, action, method, params)
    return _report(interp, action, method, params)


def _targets(verb) -> list[tuple[str, dict]]:
    """(number, Number attributes) for everything `verb` dials."""
    targets = []
    text = (verb.text or "").strip()
    if text:
        targets.append((NUMBER_PUNCTUATION.sub("", text), {}))
    for noun in verb:
        if noun.tag == "Number":
            targets.append((NUMBER_PUNCTUATION.sub("", noun.text or ""), dict(noun.attrib)))
        elif noun.tag in UNSUPPORTED_NOUNS:
            raise ApplicationError(12200, f"the simulator does not dial <{noun.tag}>")
        else:
            raise ApplicationError(12200, f"<{noun.tag}> cannot be nested in <Dial>")
    if not targets:
        raise ApplicationError(12200, "<Dial> has nothing to dial")
    return targets


def _may_show(state, parent, caller_id: str) -> bool:
    """Twilio shows only the account's numbers, or the call's own parties, as caller ID."""
    return state.find_number(caller_id) is not None or caller_id in (parent.from_, parent.to)


def _child(interp, url, number: str, attrs: dict, caller_id: str, time_limit: int):
    """Create the child leg for one number, with its `<Number>` status callback settings."""
    parent, run = interp.leg, interp.run
    child = run.engine.new_leg(
        direction="outbound-dial", to=number, from_=caller_id, party=number,
        parent_sid=parent.sid, created_at=run.wall(), time_limit=time_limit,
        status_callback=resolve(url, attrs.get("statusCallback")) or "",
        status_callback_method=attrs.get("statusCallbackMethod", "POST").upper(),
        status_events=parse_events(attrs.get("statusCallbackEvent")),
    )
    with run.state.changed:
        if not is_e164(number):
            # Twilio cannot place a call to something that is not a number.
            child.script = CallScript(outcome="failed")
            child.note(f"{number!r} is not a phone number; the call fails")
        parent.children.append(child.sid)
    return child, attrs


def _whisper(interp, answered, attrs: dict, url: str | None):
    """Play the `<Number url>` whisper to the callee: (bridge now?, event on the parent or None)."""
    whisper = resolve(url, attrs.get("url"))
    if not whisper:
        return True, None
    method = attrs.get("method", "POST").upper()
    outcome = interp.for_leg(answered, others=[interp.leg]).play(Goto(whisper, method))
    if outcome is None:
        return True, None
    if outcome.reason == "other":
        return False, outcome.event
    return False, None  # the callee hung up, or the whisper hung up on it


def _unanswered_status(statuses: list[str]) -> str:
    """DialCallStatus when nobody answered."""
    for status in ("no-answer", "busy", "canceled"):
        if status in statuses:
            return status
    return "failed"


def _report(interp, action: str | None, method: str, params: dict) -> Goto | None:
    """Go on with `action`'s TwiML, or with the next verb when there is no action."""
    interp.note(f"<Dial> ended: {params['DialCallStatus']}")
    return Goto(action, method, params) if action else None


def _caller_left(interp, event, action: str | None, method: str, params: dict) -> Goto | Ended:
    """The parent hung up or was redirected during the Dial."""
    if event.kind == "hangup" and action:
        # Twilio still tells the action how the Dial ended, and ignores its answer.
        interp.run.send(action, {**interp.run.engine.call_params(interp.leg, "completed"), **params}, method)
    return interp.interruption(event)
