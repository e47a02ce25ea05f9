"""AvailablePhoneNumbers (2010-04-01): the numbers the account could buy, per country and type.

A few countries are known, each with a made-up but valid inventory (ranges
set aside for drama and tests where the country has them). A number is
available while nobody owns it: the account's own numbers are not listed,
nor numbers in `SimulatorState.sold_elsewhere` ("another customer" bought them:
a test adds one there to make a number gone between a search and a purchase).
A released number is available again. An unknown country, or a type a
country does not sell (the US has no Mobile numbers), is a 404 with
Twilio's error body, as Twilio answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, jsonify, request

from twilio_sim.context import current_sim
from twilio_sim.errors import not_found
from twilio_sim.formats import list_page
from twilio_sim.state import SimulatorState

API_VERSION = "2010-04-01"
PER_BLOCK = 100


@dataclass(frozen=True)
class Block:
    """`PER_BLOCK` numbers: `prefix` (E.164, its area code first) and two final digits."""

    prefix: str
    area_code: str
    locality: str
    region: str | None
    sms: bool = True

    def numbers(self) -> list[str]:
        return [f"{self.prefix}{n:02d}" for n in range(PER_BLOCK)]


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    dial: str
    local: tuple[Block, ...]
    mobile: tuple[Block, ...] = ()

    def blocks(self, kind: str) -> tuple[Block, ...]:
        return self.local if kind == "local" else self.mobile


COUNTRIES = {
    country.code: country
    for country in (
        Country("US", "United States", "+1", local=(
            Block("+141555501", "415", "San Francisco", "CA"),
            Block("+121255501", "212", "New York", "NY"),
            Block("+131255501", "312", "Chicago", "IL"),
        )),
        Country("GB", "United Kingdom", "+44", local=(
            Block("+4420794600", "20", "London", None, sms=False),
        ), mobile=(
            Block("+4479111234", "7911", "", None),
        )),
        Country("AU", "Australia", "+61", local=(
            Block("+612555000", "2", "Sydney", "NSW"),
        ), mobile=(
            Block("+614915700", "491", "", None),
        )),
        Country("CN", "China", "+86", local=(
            Block("+8610555500", "10", "Beijing", None),
        ), mobile=(
            Block("+86139001000", "139", "", None),
        )),
    )
}

bp = Blueprint("sim_available", __name__, url_prefix=f"/api/{API_VERSION}/Accounts/<account_sid>")


def _base(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/AvailablePhoneNumbers"


def country_json(country: Country, account_sid: str) -> dict:
    """The AvailablePhoneNumberCountry resource."""
    base = f"{_base(account_sid)}/{country.code}"
    uris = {"local": f"{base}/Local.json"}
    if country.mobile:
        uris["mobile"] = f"{base}/Mobile.json"
    return {"country_code": country.code, "country": country.name, "uri": f"{base}.json",
            "beta": False, "subresource_uris": uris}


@bp.get("/AvailablePhoneNumbers.json")
def list_countries(account_sid: str):
    """The countries whose numbers the account may search."""
    records = [country_json(c, account_sid) for c in COUNTRIES.values()]
    page = list_page(records, "countries", f"{_base(account_sid)}.json", request.args, {})
    return jsonify({"countries": page["countries"], "uri": page["uri"]})


@bp.get("/AvailablePhoneNumbers/<country_code>.json")
def fetch_country(account_sid: str, country_code: str):
    return jsonify(country_json(_country(country_code), account_sid))


@bp.get("/AvailablePhoneNumbers/<country_code>/Local.json")
def list_local(account_sid: str, country_code: str):
    return _list(account_sid, country_code, "local", "Local")


@bp.get("/AvailablePhoneNumbers/<country_code>/Mobile.json")
def list_mobile(account_sid: str, country_code: str):
    return _list(account_sid, country_code, "mobile", "Mobile")


def _country(code: str) -> Country:
    country = COUNTRIES.get(code)
    if country is None:
        raise not_found(request.path.removeprefix("/api"))
    return country


def _list(account_sid: str, country_code: str, kind: str, resource: str):
    country = _country(country_code)
    blocks = country.blocks(kind)
    if not blocks:
        raise not_found(request.path.removeprefix("/api"))
    args = request.args
    area_code = args.get("AreaCode")
    contains = _contains_pattern(args.get("Contains"))
    wanted = {name: _flag(args.get(name)) for name in ("VoiceEnabled", "SmsEnabled", "MmsEnabled")}
    state = current_sim().state
    records = []
    with state.lock:
        for block in blocks:
            if area_code is not None and block.area_code != str(int(area_code)):
                continue
            capabilities = {"voice": True, "sms": block.sms, "mms": block.sms, "fax": False}
            if any(wanted[name] is not None and capabilities[key] != wanted[name]
                   for name, key in (("VoiceEnabled", "voice"), ("SmsEnabled", "sms"),
                                     ("MmsEnabled", "mms"))):
                continue
            for e164 in block.numbers():
                if not is_available(state, e164):
                    continue
                if contains is not None and not contains.search(e164):
                    continue
                records.append(_number_json(country, block, e164, capabilities))
    filters = {"AreaCode": area_code, "Contains": args.get("Contains")}
    for name, value in wanted.items():
        if value is not None:
            filters[name] = args.get(name)
    path = f"{_base(account_sid)}/{country.code}/{resource}.json"
    page = list_page(records, "available_phone_numbers", path, args, filters)
    return jsonify(page)


def is_available(state: SimulatorState, e164: str) -> bool:
    """Nobody owns `e164`: neither the account nor another customer."""
    return state.find_number(e164) is None and e164 not in state.sold_elsewhere


def _number_json(country: Country, block: Block, e164: str, capabilities: dict) -> dict:
    national = e164[len(country.dial):]
    return {
        "friendly_name": _friendly(country, national),
        "phone_number": e164,
        "lata": None,
        "locality": block.locality or None,
        "rate_center": None,
        "latitude": None,
        "longitude": None,
        "region": block.region,
        "postal_code": None,
        "iso_country": country.code,
        "address_requirements": "none",
        "beta": False,
        "capabilities": capabilities,
    }


def _friendly(country: Country, national: str) -> str:
    if country.code == "US":
        return f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return f"{country.dial} {national}"


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() == "true"


def _contains_pattern(value: str | None) -> re.Pattern | None:
    """Twilio's Contains: digits (letters as on a keypad) with `*` for any one digit."""
    if not value:
        return None
    keypad = {c: d for d, letters in {"2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno",
                                       "7": "pqrs", "8": "tuv", "9": "wxyz"}.items() for c in letters}
    digits = "".join(keypad.get(c.lower(), c) for c in value)
    return re.compile("".join(r"\d" if c == "*" else re.escape(c) for c in digits))
