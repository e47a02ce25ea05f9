"""The verbs that take something from the party: `<Gather>` (keys) and `<Record>` (a message).

What the party does comes from its script (`CallScript.digits`,
`CallScript.talk_seconds`) or, for a person, from keys pressed on the
phones page or with `state.press` (buffered on the leg as `leg.dtmf`).
"""

from __future__ import annotations

from twilio_sim.twiml import ApplicationError, Ended, Goto, Interrupt, attribute, resolve

# A scripted party takes this long to press its keys.
PRESS_SECONDS = 1.0
PROMPTS = ("Say", "Play", "Pause")


def gather(interp, verb, url: str | None) -> Goto | None:
    """`<Gather>`: play the nested prompts, collect keys, then post them to `action`.

    No input: the document goes on with the next verb, as on Twilio
    (unless `actionOnEmptyResult="true"`).
    """
    leg, run = interp.leg, interp.run
    action = resolve(url, verb.get("action")) or url
    method = verb.get("method", "POST").upper()
    timeout = attribute(verb, "timeout", 5, float)
    limit = attribute(verb, "numDigits", 0)
    finish = verb.get("finishOnKey", "#")
    keypad = "dtmf" in verb.get("input", "dtmf").split()
    with run.state.changed:
        index, leg.gathers, leg.dtmf = leg.gathers, leg.gathers + 1, ""
    scripted = leg.script.digits_for(index) if keypad else None
    for prompt in verb:
        if prompt.tag not in PROMPTS:
            raise ApplicationError(12200, f"<{prompt.tag}> cannot be nested in <Gather>")
        # A person may press keys during the prompts (barge-in); a script waits for them to end.
        if interp.execute(prompt, url, in_gather=keypad and scripted is None):
            break
    if scripted is not None:
        interp.pause_for(PRESS_SECONDS)
        digits, key, done = _take(scripted, "", limit, finish)
        if not done:
            interp.pause_for(timeout)  # waiting for more keys that never come
    else:
        digits, key = _pressed(interp, keypad, timeout, limit, finish)
    if not digits and verb.get("actionOnEmptyResult") != "true":
        interp.note("<Gather> timed out without input; going on")
        return None
    interp.note(f"<Gather> got {digits!r}")
    if not action:
        interp.note("<Gather> has no action URL (inline TwiML); going on")
        return None
    return Goto(action, method, {"Digits": digits, "FinishedOnKey": key})


def _pressed(interp, keypad: bool, timeout: float, limit: int, finish: str) -> tuple[str, str]:
    """Keys a person presses: each one restarts the `timeout`."""
    leg, digits = interp.leg, ""
    while True:
        if not interp.pause_for(timeout, digits=keypad):
            return digits, ""
        with interp.run.state.changed:
            pressed, leg.dtmf = leg.dtmf, ""
        digits, key, done = _take(pressed, digits, limit, finish)
        if done:
            return digits, key


def _take(keys: str, digits: str, limit: int, finish: str) -> tuple[str, str, bool]:
    """Add `keys` to `digits` until `finish` is pressed or `limit` reached: (digits, key, done)."""
    for key in keys:
        if finish and key == finish:
            return digits, key, True
        digits += key
        if limit and len(digits) >= limit:
            return digits, "", True
    return digits, "", False


def record(interp, verb, url: str | None) -> Goto | Ended | None:
    """`<Record>`: record the party until a key, silence, `maxLength` or a hang-up.

    The recording is posted to `action` (RecordingUrl, RecordingSid,
    RecordingDuration, Digits) and to `recordingStatusCallback`. A party
    who hangs up still leaves the message; the action hears of it with
    Digits=hangup and its answer is not played.
    """
    leg, run = interp.leg, interp.run
    action = resolve(url, verb.get("action")) or url
    method = verb.get("method", "POST").upper()
    timeout = attribute(verb, "timeout", 5, float)
    max_length = attribute(verb, "maxLength", 3600, float)
    finish = verb.get("finishOnKey", "1234567890*#")
    if verb.get("playBeep", "true") != "false":
        interp.note("beep")
    with run.state.changed:
        leg.dtmf = ""
    start, key, ended, talked = run.t, "", None, None
    try:
        key = _talk(interp, max_length, finish)
        talked = run.t
        if not key and talked - start < max_length:
            interp.pause_for(timeout)  # the silence that ends a recording
    except Interrupt as interrupt:
        if not isinstance(interrupt.result, Ended):
            raise
        ended = interrupt.result
    duration = (talked if talked is not None else run.t) - start
    if round(duration) <= 0:
        interp.note("<Record> heard nothing; going on")
        return ended
    recording = run.make_recording(leg, duration, start, "RecordVerb")
    run.recording_callback(recording, resolve(url, verb.get("recordingStatusCallback")),
                           verb.get("recordingStatusCallbackMethod", "POST"))
    params = {"RecordingUrl": recording.url, "RecordingSid": recording.sid,
              "RecordingDuration": str(recording.duration)}
    if key or ended:
        params["Digits"] = key or "hangup"
    if ended is not None:
        if action:
            run.send(action, {**run.engine.call_params(leg, "completed"), **params}, method)
        return ended
    return Goto(action, method, params) if action else None


def _talk(interp, max_length: float, finish: str) -> str:
    """The party speaks: a script for `talk_seconds`, a person until a key; returns the key."""
    leg, run = interp.leg, interp.run
    if not leg.script.manual:
        interp.pause_for(min(leg.script.talk_seconds, max_length))
        return ""
    start = run.t
    while run.t - start < max_length:
        if not interp.pause_for(max_length - (run.t - start), digits=True):
            break
        with run.state.changed:
            pressed, leg.dtmf = leg.dtmf, ""
        hit = next((key for key in pressed if key in finish), "")
        if hit:
            return hit
    return ""
