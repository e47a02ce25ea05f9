"""TwiML documents the app answers Twilio with, built with the SDK's builders.

Each prompt is spoken to the party who hears it, in their language (`lang`,
`en` or `zh`, chosen by `telephony.languages`): its words are msgids of the
translation catalogue, rendered under `force_locale`, and `<Say language>`
tells the text-to-speech engine which language it reads.
"""

from __future__ import annotations

from flask_babel import force_locale, gettext
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

SAY_LANGUAGE = {"en": "en-US", "zh": "zh-CN"}


def _say(parent, lang: str, words) -> None:
    """Say `words()` (a gettext call, evaluated in `lang`) to the party on `parent`'s leg."""
    with force_locale(lang):
        parent.say(words(), language=SAY_LANGUAGE[lang])


def _unreachable() -> str:
    return gettext("Sorry, this number cannot connect your call. Goodbye.")


def _recorded() -> str:
    return gettext("This call is recorded for quality and dispute resolution.")


def _no_connect() -> str:
    return gettext("The shopper will not be connected. Goodbye.")


def refuse(lang: str = "en") -> str:
    """A short message, then hang up: for callers the proxy must not connect."""
    response = VoiceResponse()
    _say(response, lang, _unreachable)
    response.hangup()
    return str(response)


def connect(*, caller_id: str, to: str, status_callback: str, action: str, record: bool,
            whisper_url: str | None = None, lang: str = "en", timeout: int = 30) -> str:
    """Dial `to` showing `caller_id` (the proxy number), never the caller's own.

    With `record`, the caller hears the recording notice first, in `lang` (the
    caller's language), and the callee hears it through `whisper_url` (which
    names the callee's language) before being bridged.
    """
    response = VoiceResponse()
    if record:
        _say(response, lang, _recorded)
    dial = Dial(caller_id=caller_id, action=action, method="POST", timeout=timeout,
                answer_on_bridge=True, record="record-from-answer-dual" if record else "do-not-record")
    dial.number(to, status_callback=status_callback, status_callback_method="POST",
                status_callback_event="initiated ringing answered completed",
                url=whisper_url if record else None)
    response.append(dial)
    return str(response)


def notice(lang: str = "en") -> str:
    """The whisper played to a callee before bridging: the recording notice."""
    response = VoiceResponse()
    _say(response, lang, _recorded)
    return str(response)


def ask_extension(action: str, lang: str = "en") -> str:
    """A shared number's prompt for the caller's four-digit extension."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=4, timeout=8, action=action, method="POST")
    _say(gather, lang, lambda: gettext("Please enter the four digit extension you were given."))
    _say(response, lang, lambda: gettext("That extension is not valid. Goodbye."))
    response.hangup()
    return str(response)


def callback_whisper(*, store: str, order_ref: str | None, action: str, lang: str = "en") -> str:
    """What the merchant hears on answering, in `lang` (the merchant's language): who asks,
    and press 1 to connect."""

    def words() -> str:
        # The order reference is read out one character at a time.
        order = gettext(", about order %(order_ref)s", order_ref=" ".join(order_ref)) if order_ref else ""
        return gettext("Hello %(store)s. A shopper asked you to call them back%(order)s. "
                       "Press 1 to connect now.", store=store, order=order)

    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=action, method="POST")
    _say(gather, lang, words)
    _say(response, lang, _no_connect)
    response.hangup()
    return str(response)


def goodbye(lang: str = "en") -> str:
    """The merchant will not be connected: say so and hang up."""
    response = VoiceResponse()
    _say(response, lang, _no_connect)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def no_reply() -> str:
    """An empty messaging response: nothing is sent back to the texter."""
    return str(MessagingResponse())
