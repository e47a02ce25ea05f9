"""The pool's figures per country, the low-capacity check, and buying when a country runs low.

A country's capacity is what its active direct numbers may carry (each its
cap, else PROXY_NUMBER_CAP); free is capacity less their active bindings.
Draining and released numbers add nothing; shared numbers carry extensions,
not pairs, and are not counted. A pair that found no direct number was given
an extension on a shared one: those fallbacks of the last 24 h are counted
per country of the number that took them.

A country is low when its free capacity is under POOL_LOW_WATERMARK percent
of its capacity (or it has none while it has numbers or fallbacks).
`pool_low_countries()` is the one check; `check_pool()` (the scheduler's
job) emits the outbound webhooks' `pool.low` event when a country becomes low (the countries
announced are kept in the database, so however many schedulers take the check in turn, a
country is announced once until it recovers), and, with
POOL_AUTO_BUY_MAX > 0, buys numbers for it, at most that many a day in all,
logging why.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select

from registry.core import dialects
from registry.core.errors import AppError
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.masking import provisioning
from registry.masking.models import ACTIVE_STATUS, DRAINING, Binding, PoolLowCountry, ProxyNumber
from registry.telephony import TelephonyGateway
from registry.webhooks.events import emit

log = logging.getLogger(__name__)
FALLBACK_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class CountryCapacity:
    country: str
    numbers: int
    draining: int
    capacity: int
    used: int
    fallbacks_24h: int
    watermark: int  # percent of capacity

    @property
    def free(self) -> int:
        return max(self.capacity - self.used, 0)

    @property
    def low(self) -> bool:
        if self.capacity == 0:
            return True
        return self.free * 100 < self.watermark * self.capacity

    def event(self) -> dict:
        """What a `pool.low` event carries."""
        return {**asdict(self), "free": self.free}


def by_country(default_cap: int, watermark: int, now: datetime | None = None) -> list[CountryCapacity]:
    """Every country with a number in the pool (not released) or a recent fallback."""
    now = now or utcnow()
    direct = (ProxyNumber.status == ACTIVE_STATUS) & ProxyNumber.shared.is_(False)
    rows = db.session.execute(
        select(ProxyNumber.country,
               func.sum(case((direct, 1), else_=0)),
               func.sum(case((ProxyNumber.status == DRAINING, 1), else_=0)),
               func.sum(case((direct, func.coalesce(ProxyNumber.cap, default_cap)), else_=0)),
               func.sum(case((direct, ProxyNumber.active_bindings), else_=0)))
        .where(ProxyNumber.status.in_((ACTIVE_STATUS, DRAINING)))
        .group_by(ProxyNumber.country)
    ).all()
    fallbacks = dict(db.session.execute(
        select(ProxyNumber.country, func.count(Binding.id))
        .join(ProxyNumber, ProxyNumber.id == Binding.proxy_number_id)
        .where(Binding.extension.is_not(None), Binding.created_at >= now - FALLBACK_WINDOW)
        .group_by(ProxyNumber.country)
    ).all())
    figures = {
        country: CountryCapacity(country, int(numbers or 0), int(draining or 0), int(capacity or 0),
                                 int(used or 0), fallbacks.get(country, 0), watermark)
        for country, numbers, draining, capacity, used in rows
    }
    for country, count in fallbacks.items():
        figures.setdefault(country, CountryCapacity(country, 0, 0, 0, 0, count, watermark))
    return [figures[c] for c in sorted(figures)]


def pool_low_countries(default_cap: int, watermark: int,
                       now: datetime | None = None) -> list[CountryCapacity]:
    """The countries whose free capacity is under the watermark: the one low-capacity check."""
    return [c for c in by_country(default_cap, watermark, now) if c.low]


def _announce(low: list[CountryCapacity], now: datetime) -> list[str]:
    """Emit `pool.low` for the countries that became low since the last check, by any scheduler:
    each is announced once, and again only after it recovered."""
    table = PoolLowCountry.__table__
    db.session.execute(delete(table).where(table.c.country.not_in([c.country for c in low])))
    fresh = []
    for country in low:
        # Insert-if-absent: the row says it was announced; a concurrent check that inserted it
        # first announced it, this one does not.
        inserted = db.session.execute(
            dialects.insert_ignore(table, dialects.flavour(db.session), ["country"])
            .values(country=country.country, announced_at=now).returning(table.c.country)).first()
        if inserted is None:
            continue
        log.warning("proxy pool low in %s: %d free of %d (watermark %d%%), %d extension fallbacks in 24 h",
                    country.country, country.free, country.capacity, country.watermark, country.fallbacks_24h)
        emit("pool.low", country.event())
        fresh.append(country.country)
    return fresh


def bought_automatically(now: datetime) -> int:
    return db.session.scalar(select(func.count(ProxyNumber.id)).where(
        ProxyNumber.origin == "auto", ProxyNumber.created_at >= now - timedelta(days=1))) or 0


def numbers_wanted(country: CountryCapacity, default_cap: int) -> int:
    """Numbers of the default cap that bring the country back over its watermark (at least 1)."""
    if country.watermark >= 100:
        return 1
    short = country.watermark * country.capacity - 100 * country.free
    return max(1, math.ceil(short / (default_cap * (100 - country.watermark))))


def _buy_one(gateway: TelephonyGateway, country: str, public_base_url: str) -> ProxyNumber | None:
    for kind in provisioning.KINDS:
        try:
            candidates = provisioning.search(gateway, country, kind, limit=5)
        except AppError as error:
            log.info("pool auto-buy: no %s numbers of %s to search (%s)", kind, country, error.key)
            continue
        for candidate in candidates:
            try:
                return provisioning.buy(gateway, candidate.phone_number, public_base_url, origin="auto")
            except AppError as error:  # gone since the search: the next one
                log.info("pool auto-buy: %s not bought (%s)", candidate.phone_number, error.key)
    return None


def check_pool(gateway: TelephonyGateway, config, now: datetime | None = None) -> dict:
    """The scheduler's job: announce newly low countries; buy for low ones within the day's budget."""
    now = now or utcnow()
    default_cap, watermark = config["PROXY_NUMBER_CAP"], config["POOL_LOW_WATERMARK"]
    low = pool_low_countries(default_cap, watermark, now)
    result: dict = {"low": [c.country for c in low], "announced": _announce(low, now), "bought": []}
    budget = config["POOL_AUTO_BUY_MAX"] - bought_automatically(now)
    if config["POOL_AUTO_BUY_MAX"] <= 0 or not low:
        return result
    for country in low:
        wanted = numbers_wanted(country, default_cap)
        for _ in range(wanted):
            if budget <= 0:
                log.warning("pool auto-buy: %s is low (%d free of %d) but POOL_AUTO_BUY_MAX (%d) numbers "
                            "were bought in the last 24 h", country.country, country.free, country.capacity,
                            config["POOL_AUTO_BUY_MAX"])
                return result
            proxy = _buy_one(gateway, country.country, config["PUBLIC_BASE_URL"])
            if proxy is None:
                log.warning("pool auto-buy: %s is low but Twilio offers no number to buy", country.country)
                break
            budget -= 1
            result["bought"].append(proxy.e164)
            log.info("pool auto-buy: bought %s because %s was low: %d free of %d, under %d%% "
                     "(%d extension fallbacks in 24 h)", proxy.e164, country.country, country.free,
                     country.capacity, watermark, country.fallbacks_24h)
    return result
