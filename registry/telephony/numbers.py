"""The account's phone numbers at Twilio: searching what may be bought, buying, configuring,
listing and releasing (AvailablePhoneNumbers and IncomingPhoneNumbers), in plain values.

A mixin of `TelephonyGateway`, which supplies `client` and `_call` (Twilio's
refusals become `ProviderError`, with Twilio's code: 21422 when a number is
no longer available, 20404 when a country or number is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass

NUMBER_NOT_AVAILABLE = 21422
KINDS = ("local", "mobile")


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    friendly_name: str
    country: str
    locality: str | None
    region: str | None
    voice: bool
    sms: bool


@dataclass(frozen=True)
class BoughtNumber:
    sid: str
    phone_number: str
    voice: bool
    sms: bool


def _capability(capabilities: dict | None, name: str) -> bool:
    # The spec writes the keys in lower case; Twilio has been seen to answer "SMS".
    capabilities = capabilities or {}
    return bool(capabilities.get(name, capabilities.get(name.upper(), False)))


class NumbersMixin:
    def search_numbers(self, country: str, kind: str = "local", *, area_code: int | None = None,
                       contains: str | None = None, limit: int = 20) -> list[AvailableNumber]:
        """Numbers of `country` (ISO 3166 alpha-2) and `kind` (local, mobile) that take both calls
        and texts and may be bought now."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        country_numbers = self.client.available_phone_numbers(country)
        listing = country_numbers.local if kind == "local" else country_numbers.mobile
        options = {"voice_enabled": True, "sms_enabled": True, "limit": limit}
        if area_code is not None:
            options["area_code"] = area_code
        if contains:
            options["contains"] = contains
        found = self._call(listing.list, **options)
        return [
            AvailableNumber(n.phone_number, n.friendly_name, n.iso_country or country, n.locality, n.region,
                            _capability(n.capabilities, "voice"), _capability(n.capabilities, "sms"))
            for n in found
        ]

    def buy_number(self, phone_number: str, voice_url: str, sms_url: str,
                   status_callback: str) -> BoughtNumber:
        """Buy `phone_number` with its voice, SMS and call-status webhooks pointed at the app
        (`ProviderError` code 21422 if someone else has it now)."""
        number = self._call(
            self.client.incoming_phone_numbers.create, phone_number=phone_number,
            voice_url=voice_url, voice_method="POST", sms_url=sms_url, sms_method="POST",
            status_callback=status_callback, status_callback_method="POST",
        )
        return BoughtNumber(number.sid, number.phone_number, _capability(number.capabilities, "voice"),
                            _capability(number.capabilities, "sms"))

    def release_number(self, sid: str) -> None:
        """Give the number back to Twilio: the account no longer owns it."""
        self._call(self.client.incoming_phone_numbers(sid).delete)

    def find_incoming_number(self, phone_number: str) -> str | None:
        """The sid of the account's number `phone_number`, or None."""
        found = self._call(self.client.incoming_phone_numbers.list, phone_number=phone_number, limit=5)
        return next((n.sid for n in found if n.phone_number == phone_number), None)

    def list_incoming_numbers(self) -> list[dict]:
        """The account's phone numbers: `sid`, `phone_number`, webhook URLs."""
        numbers = self._call(self.client.incoming_phone_numbers.list)
        return [
            {
                "sid": n.sid,
                "phone_number": n.phone_number,
                "voice_url": n.voice_url,
                "sms_url": n.sms_url,
            }
            for n in numbers
        ]

    def configure_incoming_number(self, sid: str, voice_url: str, sms_url: str,
                                  status_callback: str | None = None) -> None:
        """Point a number's voice, SMS and call-status webhooks at the app."""
        number = self.client.incoming_phone_numbers(sid)
        options = {"voice_url": voice_url, "voice_method": "POST", "sms_url": sms_url,
                   "sms_method": "POST"}
        if status_callback:
            options.update(status_callback=status_callback, status_callback_method="POST")
        self._call(number.update, **options)
