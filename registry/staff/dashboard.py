"""Read-only queries behind the staff console: the dashboard's charts and the complaint queue.

Counts are made by the database (grouped by UTC day), never by loading the
log into memory. Each chart comes back as bars with their share of the
largest, so the template only draws them (inline SVG, no script, no CDN).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from registry.accounts.models import User
from registry.calllog import verification
from registry.calllog.models import CallEvent, CallRecord, ChainHead, ChainVerification
from registry.complaints.models import Complaint
from registry.core import dialects
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.masking import capacity, pool
from registry.merchants.models import Merchant

DAYS = 14
TOP_MERCHANTS = 10


@dataclass(frozen=True)
class Bar:
    """One bar of a chart."""
    label: str
    value: float
    shown: str  # the value as printed beside the bar
    share: float  # 0..1 of the chart's scale


def _bars(items: list[tuple[str, float, str]], scale: float | None = None) -> list[Bar]:
    top = scale or max((value for _, value, _ in items), default=0) or 1
    return [Bar(label, value, shown, min(1.0, value / top)) for label, value, shown in items]


@dataclass(frozen=True)
class DailyCalls:
    """The two per-day charts, oldest day first."""
    calls: list[Bar]  # legs per day
    answer_rate: list[Bar]  # answered share of the legs that rang someone
    total: int


def daily_calls(now: datetime | None = None, days: int = DAYS) -> DailyCalls:
    """Calls per UTC day and the answer rate per day, for the last `days` days (today included)."""
    today = as_utc(now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    day = dialects.utc_date(CallRecord.created_at, db.engine)
    rang = case((CallRecord.kind != "intercepted", 1), else_=0)
    answered = case(((CallRecord.kind != "intercepted") & CallRecord.answered_at.is_not(None), 1), else_=0)
    rows = db.session.execute(
        select(day, func.count(CallRecord.id), func.sum(rang), func.sum(answered))
        .where(CallRecord.created_at >= datetime.combine(first, time(0), tzinfo=UTC))
        .group_by(day)).all()
    by_day = {str(row[0])[:10]: (row[1], row[2] or 0, row[3] or 0) for row in rows}
    dates = [first + timedelta(days=i) for i in range(days)]
    counts = [(d, *by_day.get(d.isoformat(), (0, 0, 0))) for d in dates]
    calls = _bars([(_short(d), total, str(total)) for d, total, _, _ in counts])
    rates = _bars([(_short(d), (done / placed) if placed else 0, f"{round(100 * done / placed)}%" if placed
                    else "–") for d, _, placed, done in counts], scale=1)
    return DailyCalls(calls, rates, sum(total for _, total, _, _ in counts))


def webhook_success() -> list[Bar]:
    """Each webhook endpoint's share of attempts that succeeded over the last seven days."""
    from registry.webhooks.stats import endpoint_health

    items = [(f"{h.endpoint.id} · {h.client_name}", h.success_rate,
              f"{round(h.success_rate * 100)}% / {h.attempts}")
             for h in endpoint_health() if h.success_rate is not None]
    return _bars(items, scale=1.0)


def _short(day: date) -> str:
    return day.strftime("%m-%d")


def complaints_per_merchant(limit: int = TOP_MERCHANTS) -> list[Bar]:
    """The stores with the most complaints, most first."""
    count = func.count(Complaint.id)
    rows = db.session.execute(
        select(Merchant.id, Merchant.name, count).join(Complaint, Complaint.merchant_id == Merchant.id)
        .group_by(Merchant.id, Merchant.name).order_by(count.desc(), Merchant.id).limit(limit)).all()
    return _bars([(f"{name} (#{merchant_id})", n, str(n)) for merchant_id, name, n in rows])


@dataclass(frozen=True)
class PoolPressure:
    """How full the proxy pool is."""
    stats: pool.PoolStats
    bars: list[Bar]  # bindings against capacity, numbers needed against numbers owned
    low: list[capacity.CountryCapacity]  # countries under POOL_LOW_WATERMARK

    @property
    def short(self) -> bool:
        """True when the pool has fewer numbers than the active bindings need."""
        return self.stats.numbers_needed > self.stats.pool_size


def _share(part: int, whole: int) -> float:
    if whole:
        return min(1.0, part / whole)
    return 1.0 if part else 0.0


def pool_pressure(default_cap: int, watermark: int = 10) -> PoolPressure:
    """Bindings against the pool's capacity, the numbers the busiest party needs, and the
    countries low on free capacity."""
    stats = pool.stats(default_cap)
    total = stats.pool_size * stats.cap
    return PoolPressure(stats, [
        Bar("bindings", stats.active_bindings, f"{stats.active_bindings} / {total}",
            _share(stats.active_bindings, total)),
        Bar("numbers", stats.numbers_needed, f"{stats.numbers_needed} / {stats.pool_size}",
            _share(stats.numbers_needed, stats.pool_size)),
    ], capacity.pool_low_countries(default_cap, watermark))


@dataclass(frozen=True)
class ChainStatus:
    """The call log's hash chain as the dashboard tile tells it, read fresh at each page load."""
    sealed: int  # events sealed into the chain (the head's seq)
    pending: int  # events appended but not sealed yet (the scheduler seals every second)
    last: ChainVerification | None  # the latest verification run, if any

    @property
    def unverified(self) -> int:
        """Sealed events no verification has walked yet."""
        if self.last is None:
            return self.sealed
        return max(0, self.sealed - self.last.events) if self.last.ok else 0


def chain_status() -> ChainStatus:
    """How long the sealed chain is now, what waits to be sealed, and the last verification's result.

    The daily job's result alone said "0 events" on a fresh install until the next day's
    run, although events were sealed every second; the tile shows both numbers.
    """
    head = db.session.get(ChainHead, 1)
    pending = db.session.scalar(select(func.count(CallEvent.id)).where(CallEvent.seq.is_(None))) or 0
    return ChainStatus(head.seq if head else 0, pending, verification.last_result())


def complaint_queue(status: str | None, before_id: int | None, limit: int = 25):
    """A page of complaints, newest first: `(complaints, next_before_id)`."""
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit + 1)
    if status:
        query = query.where(Complaint.status == status)
    if before_id:
        query = query.where(Complaint.id < before_id)
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def open_complaints() -> int:
    """How many complaints nobody has taken yet."""
    return db.session.scalar(select(func.count(Complaint.id)).where(Complaint.status == "open")) or 0


def merchant_names(ids) -> dict[int, str]:
    """Store names by id, in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids))).all())


def user_emails(ids) -> dict[int, str]:
    """Staff e-mail addresses by user id, in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
