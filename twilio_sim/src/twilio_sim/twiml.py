"""TwiML as the simulator reads it: parsing, attributes, and what a verb can lead to.

The interpreter (`interpreter.py`) and the verbs it delegates (`collect.py`,
`dial.py`) share these: a verb either lets the document go on (None),
sends the call to another document (`Goto`), or ends the leg's part
(`Ended`); `ApplicationError` is what Twilio calls an application error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

APP_ERROR_PROMPT = "We are sorry, an application error has occurred. Goodbye."
VERBS = {"Say", "Play", "Pause", "Gather", "Dial", "Record", "Hangup", "Reject", "Redirect"}
# Verbs Twilio knows that the simulator does not play; they fail loudly, not silently.
UNSUPPORTED = {"Connect", "Echo", "Enqueue", "Leave", "Pay", "Prompt", "Queue", "Refer", "Sms",
               "Start", "Stop"}
WHISPER_VERBS = {"Say", "Play", "Pause", "Gather", "Hangup", "Redirect"}
# A call that keeps fetching documents (a Gather loop nobody answers) ends here.
MAX_DOCUMENTS = 100
SAY_CHARS_PER_SECOND = 12
PLAY_SECONDS = 3.0


class ApplicationError(Exception):
    """The app's TwiML could not be played; Twilio's error code and why."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Goto:
    """Fetch a document next: `url` with `method` and extra parameters, or inline `twiml`."""

    url: str | None
    method: str = "POST"
    params: dict = field(default_factory=dict)
    twiml: str | None = None


@dataclass
class Ended:
    """The leg's part is over: `status` (None: completed if answered) and why."""

    status: str | None
    reason: str  # "hangup", "party", "api", "error", "reject" or "other"
    event: object = None  # for "other": the event on another leg that ended this one


class Interrupt(Exception):
    """Unwinds the verbs being played when the call goes elsewhere (hang-up, redirect)."""

    def __init__(self, result: Goto | Ended):
        super().__init__(result)
        self.result = result


def parse(text: str) -> ET.Element:
    """A TwiML document's <Response> element, namespaces dropped; ApplicationError if it is none."""
    if "<!DOCTYPE" in text.upper():
        # TwiML never needs a DTD, and refusing one shuts out entity tricks.
        raise ApplicationError(12100, "Document parse failure: a DOCTYPE is not allowed in TwiML")
    try:
        # No DTD can reach the parser (above), and expat >= 2.4 bounds entity expansion.
        root = ET.fromstring(text.strip())  # noqa: S314
    except ET.ParseError as error:
        raise ApplicationError(12100, f"Document parse failure: {error}") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    if root.tag != "Response":
        raise ApplicationError(12100, f"Document parse failure: the root is <{root.tag}>, not <Response>")
    return root


def resolve(base: str | None, url: str | None) -> str | None:
    """`url` resolved against the current document's URL, as Twilio resolves relative URLs."""
    if not url:
        return None
    return urljoin(base, url) if base else url


def answers_later(verb: ET.Element) -> bool:
    """Verbs that do not answer an inbound call themselves."""
    return verb.tag == "Reject" or (verb.tag == "Dial" and verb.get("answerOnBridge") == "true")


def attribute(verb: ET.Element, name: str, default, cast=int):
    """A numeric attribute of `verb`; a value that is not a number is the app's error, as on Twilio."""
    value = verb.get(name)
    if value is None or value == "":
        return default
    try:
        return cast(value)
    except ValueError:
        raise ApplicationError(12200, f"<{verb.tag} {name}=\"{value}\"> is not a number") from None


def loops(verb: ET.Element) -> int:
    """How many times a Say or Play plays."""
    # loop="0" repeats until the call ends; a bound keeps a forgotten loop finite.
    loops = attribute(verb, "loop", 1)
    return 1000 if loops <= 0 else loops


def say_element(text: str) -> ET.Element:
    """A `<Say>` of `text`, for what the simulator itself says on a call."""
    element = ET.Element("Say")
    element.text = text
    return element
