"""Factories for domain objects, built through the real operations."""

from __future__ import annotations

import itertools

from registry.accounts import operations as accounts
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.merchants import operations as merchants

PASSWORD = "correct horse battery"
_serial = itertools.count(1)


def make_user(role: str = "merchant", email: str | None = None, password: str = PASSWORD):
    user = accounts.create_user(email or f"user{next(_serial)}@example.com", password, role)
    db.session.commit()
    return user


def make_token(user) -> str:
    token = accounts.issue_token(user)
    db.session.commit()
    return token


def make_merchant(owner=None, name: str = "Tea House", **fields):
    owner = owner or make_user("merchant")
    merchant = merchants.create_merchant(owner.id, name, **fields)
    db.session.commit()
    return merchant


def make_number(merchant, number: str = "+8613800138000", status: str = "unverified", **fields):
    row = merchants.add_number(merchant, number, **fields)
    if status == "verified":
        row.status, row.verified_at = "verified", utcnow()
    else:
        row.status = status
    db.session.commit()
    return row


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_proxy(e164: str = "+8613900000001", **fields):
    from registry.masking.pool import add_proxy_number

    proxy = add_proxy_number(e164, **fields)
    db.session.commit()
    return proxy


def make_binding(merchant_number: str = "+8613800138000", shopper: str = "+8613700137000",
                 hours: int = 72, **fields):
    from datetime import timedelta

    from registry.masking.allocation import allocate

    binding = allocate(merchant_number, shopper, ttl=timedelta(hours=hours), default_cap=200,
                       **fields)
    db.session.commit()
    return binding


def signed_post(client, path: str, params: dict, *, token: str | None = None,
                base: str = "http://127.0.0.1:5000"):
    """POST a webhook signed as Twilio signs it for `base + path`."""
    from twilio.request_validator import RequestValidator

    from registry.core.config import SIMULATOR_AUTH_TOKEN

    signature = RequestValidator(token or SIMULATOR_AUTH_TOKEN).compute_signature(base + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def make_shopper(phone: str = "+8613700137000"):
    from registry.core.phones import get_cipher, mask
    from registry.shoppers.models import Shopper
    from registry.shoppers.timezones import display_zone

    shopper = Shopper(phone=phone, phone_hash=get_cipher().lookup_hash(phone), masked=mask(phone),
                      region="CN", timezone=display_zone(phone))
    db.session.add(shopper)
    db.session.commit()
    return shopper


def make_shopper_token(shopper) -> str:
    from registry.shoppers.operations import issue_token

    token = issue_token(shopper)
    db.session.commit()
    return token


def make_callable_merchant(number: str = "+8613800138000", name: str = "Tea House",
                           hours: dict | None = None):
    """A store with a verified number, open the given hours (default: always)."""
    merchant = make_merchant(name=name, business_hours=hours or ALWAYS_OPEN)
    make_number(merchant, number, status="verified")
    return merchant


def make_call_record(merchant=None, *, from_number="+8613700137000", to_number="+8613800138000",
                     kind="relay", status="completed", proxy="+8613900000001", callback_request_id=None,
                     sid=None):
    from registry.calllog.operations import open_leg

    record = open_leg(sid or f"CA{next(_serial):032d}", kind=kind, direction="inbound",
                      from_number=from_number, to_number=to_number, status=status, proxy_number=proxy,
                      merchant_id=merchant.id if merchant else None)
    record.callback_request_id = callback_request_id
    db.session.commit()
    return record


def make_client(name: str = "Shop A", scopes=("bindings", "callbacks"), **fields):
    """An integration client and its key (in clear, as its creator alone sees it)."""
    from registry.integrations.operations import create_client

    client, key = create_client(name, scopes, **fields)
    db.session.commit()
    return client, key


def sign_in_as(client, role: str):
    """A new user of `role`, signed in on the test `client` through the login form."""
    user = make_user(role)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user
