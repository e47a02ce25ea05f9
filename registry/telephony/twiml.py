"""TwiML documents the app answers Twilio with, built with the SDK's builders."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

# Spoken prompts, by language. The proxy number's country picks the language.
PROMPTS = {
    "en": {
        "unreachable": "Sorry, this number cannot connect your call. Goodbye.",
        "recorded": "This call is recorded for quality and dispute resolution.",
        "extension": "Please enter the four digit extension you were given.",
        "bad_extension": "That extension is not valid. Goodbye.",
        "whisper": "Hello {store}. A shopper asked you to call them back{order}. "
                   "Press 1 to connect now.",
        "order": ", about order {order_ref}",
        "no_connect": "The shopper will not be connected. Goodbye.",
    },
    "zh": {
        "unreachable": "抱歉，此号码无法为您接通电话。再见。",
        "recorded": "本次通话将被录音，用于服务质量和纠纷处理。",
        "extension": "请输入您获得的四位分机号。",
        "bad_extension": "分机号无效。再见。",
        "whisper": "您好，{store}。有顾客请求您回电{order}。按 1 立即接通。",
        "order": "，订单号 {order_ref}",
        "no_connect": "将不为您接通顾客。再见。",
    },
}
SAY_LANGUAGE = {"en": "en-US", "zh": "zh-CN"}


def language_for(country: str | None) -> str:
    return "zh" if country in {"CN", "TW", "HK", "MO", "SG"} else "en"


def _say(response: VoiceResponse, key: str, lang: str) -> None:
    response.say(PROMPTS[lang][key], language=SAY_LANGUAGE[lang])


def refuse(lang: str = "en") -> str:
    """A short message, then hang up: for callers the proxy must not connect."""
    response = VoiceResponse()
    _say(response, "unreachable", lang)
    response.hangup()
    return str(response)


def connect(*, caller_id: str, to: str, status_callback: str, action: str, record: bool,
            whisper_url: str | None = None, lang: str = "en", timeout: int = 30) -> str:
    """Dial `to` showing `caller_id` (the proxy number), never the caller's own.

    With `record`, the caller hears the recording notice first and the callee
    hears it through `whisper_url` before being bridged.
    """
    response = VoiceResponse()
    if record:
        _say(response, "recorded", lang)
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
    _say(response, "recorded", lang)
    return str(response)


def ask_extension(action: str, lang: str = "en") -> str:
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=4, timeout=8, action=action, method="POST")
    gather.say(PROMPTS[lang]["extension"], language=SAY_LANGUAGE[lang])
    _say(response, "bad_extension", lang)
    response.hangup()
    return str(response)


def callback_whisper(*, store: str, order_ref: str | None, action: str, lang: str = "en") -> str:
    """What the merchant hears on answering: who asks, and press 1 to connect."""
    prompts = PROMPTS[lang]
    order = prompts["order"].format(order_ref=" ".join(order_ref)) if order_ref else ""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=action, method="POST")
    gather.say(prompts["whisper"].format(store=store, order=order), language=SAY_LANGUAGE[lang])
    _say(response, "no_connect", lang)
    response.hangup()
    return str(response)


def goodbye(lang: str = "en") -> str:
    response = VoiceResponse()
    _say(response, "no_connect", lang)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def no_reply() -> str:
    """An empty messaging response: nothing is sent back to the texter."""
    return str(MessagingResponse())
