"""The TwiML interpreter: plays the app's voice documents on one call leg, verb by verb.

It fetches each document as Twilio does (signed request, the call's
parameters, the verb's own), then runs Say, Play, Pause, Gather and Record
(`collect.py`), Dial (`dial.py`), Hangup, Reject and Redirect. What the
leg's party hears goes into `leg.heard`; everything else into
`leg.transcript`.

A document that cannot be fetched (refused connection, 4xx/5xx), is not
TwiML (wrong content type, bad XML, unknown verb) or uses a verb the
simulator cannot play ends the call as Twilio's "application error" does:
the party hears the apology, the call completes, the error stays on the leg.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from twilio_sim import collect, dial
from twilio_sim.twiml import (
    APP_ERROR_PROMPT,
    MAX_DOCUMENTS,
    PLAY_SECONDS,
    SAY_CHARS_PER_SECOND,
    UNSUPPORTED,
    VERBS,
    WHISPER_VERBS,
    ApplicationError,
    Ended,
    Goto,
    Interrupt,
    answers_later,
    attribute,
    loops,
    parse,
    resolve,
    say_element,
)


class Interpreter:
    """Plays TwiML on `leg`; hang-ups or redirects of the `others` legs end its part."""

    def __init__(self, run, leg, others=(), allowed=frozenset(VERBS)):
        self.run = run
        self.leg = leg
        self.others = list(others)
        self.allowed = allowed

    def for_leg(self, leg, others=(), allowed=frozenset(WHISPER_VERBS)) -> Interpreter:
        """An interpreter for another leg of the same call (a `<Number url>` whisper)."""
        return Interpreter(self.run, leg, others, allowed)

    def play(self, start: Goto, fallback: tuple[str, str] | None = None) -> Ended | None:
        """Play from `start` until the leg's part ends; None when the TwiML simply ran out."""
        goto, documents = start, 0
        while True:
            documents += 1
            try:
                if documents > MAX_DOCUMENTS:
                    raise ApplicationError(12400, f"more than {MAX_DOCUMENTS} TwiML documents on one call")
                root, url = self.load(goto, fallback if documents == 1 else None)
                result = self.play_document(root, url)
            except ApplicationError as error:
                return self.application_error(error)
            if not isinstance(result, Goto):
                return result
            goto = result

    def play_document(self, root: ET.Element, url: str | None) -> Goto | Ended | None:
        """Run the verbs of one document; a Goto or Ended result stops it early."""
        for verb in root:
            self.check_verb(verb)
            if self.leg.answered_at is None and not answers_later(verb):
                # An inbound call is answered by the first verb that is not <Reject>.
                self.run.answer(self.leg)
            try:
                result = self.execute(verb, url)
            except Interrupt as interrupt:
                return interrupt.result
            if result is not None:
                return result
        return None

    def check_verb(self, verb: ET.Element) -> None:
        """Refuse what Twilio would refuse, and what the simulator cannot play."""
        name = verb.tag
        if name in UNSUPPORTED:
            raise ApplicationError(12200, f"the simulator does not play <{name}>")
        if name not in VERBS:
            raise ApplicationError(12200, f"<{name}> is not a TwiML voice verb")
        if name not in self.allowed:
            raise ApplicationError(12200, f"<{name}> is not allowed here")

    def execute(self, verb: ET.Element, url: str | None, in_gather: bool = False):
        """Run one verb; returns None to go on, or a Goto / Ended. Nested prompts return True if cut short."""
        name = verb.tag
        if name == "Say":
            return self.say(verb, in_gather)
        if name == "Play":
            self.note(f"played {(verb.text or '').strip()}")
            return self.pause_for(PLAY_SECONDS * loops(verb), in_gather)
        if name == "Pause":
            return self.pause_for(attribute(verb, "length", 1, float), in_gather)
        if name == "Gather":
            return collect.gather(self, verb, url)
        if name == "Record":
            return collect.record(self, verb, url)
        if name == "Dial":
            return dial.dial(self, verb, url)
        if name == "Hangup":
            self.note("<Hangup>")
            return Ended(None, "hangup")
        if name == "Reject":
            reason = verb.get("reason", "rejected")
            self.note(f"<Reject reason={reason}>")
            if self.leg.answered_at is not None:
                return Ended(None, "hangup")
            return Ended("busy" if reason == "busy" else "no-answer", "reject")
        target = resolve(url, (verb.text or "").strip())
        if not target:
            raise ApplicationError(12100, "<Redirect> needs a URL")
        return Goto(target, verb.get("method", "POST").upper())

    def say(self, verb: ET.Element, in_gather: bool):
        """Say the text to the party: it is heard, and takes time."""
        text = " ".join("".join(verb.itertext()).split())
        voice, language = verb.get("voice", "man"), verb.get("language", "en-US")
        for _ in range(loops(verb)):
            with self.run.state.changed:
                self.leg.heard.append(text)
                self.leg.said.append({"text": text, "voice": voice, "language": language})
                self.leg.note(f"said ({voice}, {language}): {text}")
                self.run.state.changed.notify_all([self.leg])
            if self.pause_for(max(1.0, len(text) / SAY_CHARS_PER_SECOND), in_gather):
                return True
        return None

    def pause_for(self, seconds: float, digits: bool = False) -> bool | None:
        """Let time pass on the leg; True if keys were pressed (when `digits`)."""
        event = self.run.wait(seconds, [self.leg, *self.others], self.leg if digits else None)
        if event is None:
            return None
        if event.kind == "digits":
            return True
        raise Interrupt(self.interruption(event))

    def interruption(self, event) -> Goto | Ended:
        """What a hang-up or redirect means for this leg's TwiML."""
        if event.leg is not self.leg:
            return Ended(None, "other", event)
        if event.kind == "redirect":
            with self.run.state.changed:
                url, method, twiml = self.leg.redirect
                self.leg.redirect = None
            self.note(f"redirected to {url or 'inline TwiML'}")
            return Goto(url, method, {}, twiml)
        self.note(f"{'the app' if event.reason == 'api' else 'the party'} hung up")
        return Ended(None, event.reason or "party")

    def note(self, line: str) -> None:
        """Add a line to this leg's transcript."""
        self.run.note(self.leg, line)

    # -- documents ------------------------------------------------------------------

    def load(self, goto: Goto, fallback) -> tuple[ET.Element, str | None]:
        """The document `goto` points at, parsed; tries `fallback` (url, method) on failure."""
        if goto.twiml is not None:
            return parse(goto.twiml), None
        params = {**self.run.engine.call_params(self.leg), **goto.params}
        try:
            return self.fetch(goto.url, goto.method, params), goto.url
        except ApplicationError as error:
            if not fallback or not fallback[0]:
                raise
            self.note(f"{error}; trying the fallback URL")
            params.update(ErrorCode=str(error.code), ErrorUrl=goto.url or "")
            return self.fetch(fallback[0], fallback[1], params), fallback[0]

    def fetch(self, url: str | None, method: str, params: dict) -> ET.Element:
        """Request TwiML from the app and parse it (or raise ApplicationError)."""
        if not url:
            raise ApplicationError(21205, "no URL to fetch TwiML from")
        record, response = self.run.send(url, params, method)
        self.note(f"{method} {url} -> {record.status_code or record.error}")
        if response is None:
            raise ApplicationError(11200, f"HTTP retrieval failure: {record.error}")
        if response.status_code >= 300:
            raise ApplicationError(11200, f"HTTP retrieval failure: {url} answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type in ("text/xml", "application/xml", "text/html"):
            return parse(response.text)
        if content_type == "text/plain":
            # Twilio reads a plain-text answer aloud.
            root = ET.Element("Response")
            ET.SubElement(root, "Say").text = response.text
            return root
        raise ApplicationError(12300, f"Invalid Content-Type {content_type or '(none)'} from {url}")

    def application_error(self, error: ApplicationError) -> Ended:
        """Twilio's application error: record it, apologise to the party, hang up."""
        with self.run.state.changed:
            self.leg.error, self.leg.error_code = error.message, error.code
            self.leg.note(f"application error {error.code}: {error.message}")
        if self.leg.answered_at is None:
            self.run.answer(self.leg)
        try:
            self.say(say_element(APP_ERROR_PROMPT), in_gather=False)
        except Interrupt as interrupt:
            if isinstance(interrupt.result, Ended):
                return interrupt.result
        return Ended(None, "error")
