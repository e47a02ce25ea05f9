"""The dispatch benchmark's database: stores, shoppers and a pool, then requests falling due.

Stores (always open, each with a verified number), one shopper per request
and enough proxy numbers go in before the schedulers start; every store is
scripted "busy" after a short ring in the simulator, so calls end quickly.
The requests themselves are inserted set-based once both schedulers are up,
due evenly over the minute that starts `lead` seconds later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, text

from bench.harness.database import reset_sequences
from bench.harness.fixtures import ALWAYS_OPEN, insert_merchants, merchant_e164, proxy_e164, shopper_e164

REQUESTS_PER_MERCHANT = 100


@dataclass(frozen=True)
class Shape:
    requests: int
    merchants: int
    proxies: int

    @classmethod
    def for_requests(cls, n: int) -> Shape:
        merchants = max(1, math.ceil(n / REQUESTS_PER_MERCHANT))
        # A merchant needs one proxy number per shopper it calls; 20% to spare.
        per_merchant = math.ceil(n / merchants)
        return cls(n, merchants, per_merchant + max(5, per_merchant // 5))


def seed(app, shape: Shape, state, ring: float) -> None:
    """Owners, stores with a verified number, shoppers and the pool (the requests come later)."""
    from registry.core.extensions import db
    from registry.core.phones import get_cipher, mask
    from registry.core.timeutil import utcnow
    from registry.masking.models import ProxyNumber
    from registry.shoppers.models import Shopper

    now = utcnow()
    with app.app_context():
        db.create_all()
        cipher = get_cipher()
        session = db.session
        insert_merchants(session.connection(), shape.merchants, hours=ALWAYS_OPEN)
        reset_sequences(session.connection(), ("users", "merchants", "merchant_numbers"))
        session.execute(insert(Shopper), [
            {"phone": shopper_e164(i), "phone_hash": cipher.lookup_hash(shopper_e164(i)),
             "masked": mask(shopper_e164(i)), "region": "CN", "timezone": "Asia/Shanghai",
             "verified_at": now, "created_at": now}
            for i in range(shape.requests)])
        session.execute(insert(ProxyNumber), [
            {"e164": proxy_e164(i), "provider_sid": state.add_incoming_number(proxy_e164(i)),
             "country": "CN", "status": "active", "shared": False, "active_bindings": 0, "created_at": now}
            for i in range(shape.proxies)])
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        session.remove()
    for m in range(1, shape.merchants + 1):
        state.script(merchant_e164(m), outcome="busy", answer_after=ring)


def add_requests(app, shape: Shape, lead: float, spread: float) -> datetime:
    """One request per shopper (store k mod M), due evenly over `spread` seconds from `lead` on.

    Inserted once the schedulers run, rather than updated from a placeholder, so the
    table holds no dead row versions for the claims to step over.
    """
    from registry.core.extensions import db
    from registry.core.timeutil import utcnow

    now = utcnow()
    first = now + timedelta(seconds=lead)
    with app.app_context():
        db.session.execute(text(
            "INSERT INTO callback_requests (merchant_id, shopper_id, asap, window_start, window_end, "
            "due_at, status, shopper_misses, created_at, updated_at) "
            "SELECT m.id, s.id, true, :now, :end, :first + (s.k * :step) * interval '1 second', "
            "'scheduled', 0, :now, :now "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM shoppers) AS s "
            "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM merchants) AS m "
            "ON m.k = s.k % :m"),
            {"now": now, "end": now + timedelta(days=7), "first": first,
             "step": spread / shape.requests, "m": shape.merchants})
        db.session.commit()
        db.session.execute(text("ANALYZE callback_requests"))
        db.session.commit()
        db.session.remove()
    return first
