"""Placing due callbacks: claim with a lease, write the attempt, then ask Twilio.

Crash safety comes from the order of commits:
1. claim: the request moves `scheduled -> calling` with a lease (commit);
2. the attempt row is written in state `placing` (commit) *before* Twilio
   is asked, so a dead scheduler always leaves a trace;
3. Twilio's CallSid is stored and the attempt becomes `placed` (commit).
A scheduler that finds a `placing` attempt under an expired lease asks
Twilio whether that call exists (calls from the proxy to the merchant since
the attempt began) and adopts it, so no attempt is ever placed twice; if
Twilio has no such call, the attempt is closed as not placed and the
request is due again at once.

A pass (`dispatch_once`, run by the scheduler's job every 2 s) does not stop
at one batch: for up to `pass_seconds` it claims batch after batch while
work is due, and waits for the next `due_at` when that falls inside the
pass, so a request due between two runs of the job is placed within moments
of falling due, and a burst is worked off without waiting for ticks. Each
claim is sized to what the pass can still place in its time, so the pass
ends before the job's next run; whatever a pass claims, it places.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload

from registry.callbacks import outcomes
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.operations import callable_number, unavailable_reason
from registry.extensions import db
from registry.masking.allocation import PoolExhausted, allocate
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.telephony import ProviderError, TelephonyGateway
from registry.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)
POOL_WAIT = timedelta(seconds=60)


@dataclass(frozen=True)
class DispatchSettings:
    worker: str  # this scheduler process's name, e.g. "host:pid"
    lease: timedelta = timedelta(seconds=120)
    calls_per_second: float = 1.0  # 0 = unthrottled
    batch: int = 50
    # How long one pass goes on claiming (the job runs every 2 s); 0 claims one batch only.
    pass_seconds: float = 1.5
    binding_ttl: timedelta = timedelta(hours=72)
    proxy_cap: int = 200
    max_attempts: int = 3
    backoff: timedelta = timedelta(seconds=300)
    shopper_call_hours: str = "08:00-21:00"


class Urls:
    """Absolute webhook URLs for an attempt (built by the caller, who knows the app)."""

    def __init__(self, base: str):
        self.base = base

    def answer(self, attempt_id: int) -> str:
        return f"{self.base}/webhooks/twilio/callback/answer?attempt={attempt_id}"

    def status(self, attempt_id: int, leg: str) -> str:
        return f"{self.base}/webhooks/twilio/callback/status?attempt={attempt_id}&leg={leg}"


def claim_due(settings: DispatchSettings, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Take up to `limit` (default `batch`) due requests, or ones whose lease ran out, for this
    worker; their ids, earliest due first."""
    now = now or utcnow()
    due = (CallbackRequest.status == "scheduled") & (CallbackRequest.due_at <= now)
    # Only a lease a scheduler still holds can go stale; a `calling` request with no owner
    # has its call placed already, and that call's webhooks decide what comes next.
    stale = (CallbackRequest.status == "calling") & CallbackRequest.lease_owner.is_not(None) \
        & (CallbackRequest.lease_until < now)
    query = select(CallbackRequest.id).where(due | stale).order_by(CallbackRequest.due_at) \
        .limit(settings.batch if limit is None else limit)
    lease = {"status": "calling", "lease_owner": settings.worker, "lease_until": now + settings.lease}
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the rows are locked (skipping those another scheduler holds) and leased.
        rows = db.session.execute(
            update(CallbackRequest).where(CallbackRequest.id.in_(query.with_for_update(skip_locked=True)
                                                                 .scalar_subquery()), due | stale)
            .values(**lease).returning(CallbackRequest.id, CallbackRequest.due_at)
            .execution_options(synchronize_session=False)).all()
        db.session.commit()
        return [row.id for row in sorted(rows, key=lambda row: row.due_at)]
    claimed = []
    for request_id in db.session.scalars(query).all():
        # Compare-and-set: on SQLite this is the lock.
        result = db.session.execute(
            update(CallbackRequest).where(CallbackRequest.id == request_id, due | stale)
            .values(**lease).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(request_id)
    db.session.commit()
    return claimed


def _reconcile(gateway: TelephonyGateway, attempt: CallbackAttempt, merchant_e164: str) -> bool:
    """Adopt the call a dead scheduler placed for `attempt`; False if there is none."""
    if attempt.merchant_call_sid:
        # The call's own status webhook named it already (it can beat the lost commit).
        attempt.state, attempt.placed_at = "placed", attempt.placed_at or utcnow()
        return True
    started = as_utc(attempt.created_at) - timedelta(seconds=5)
    taken = set(db.session.scalars(select(CallbackAttempt.merchant_call_sid)
                                   .where(CallbackAttempt.merchant_call_sid.is_not(None))))
    for call in gateway.find_calls(to=merchant_e164, from_=attempt.proxy_number):
        created = call["date_created"]
        if call["sid"] not in taken and (created is None or as_utc(created) >= started):
            attempt.merchant_call_sid, attempt.state, attempt.placed_at = call["sid"], "placed", utcnow()
            return True
    attempt.state, attempt.outcome, attempt.ended_at = "ended", "not_placed", utcnow()
    return False


def _release(request: CallbackRequest, status: str = "calling") -> None:
    request.status, request.lease_owner, request.lease_until = status, None, None


def place(gateway: TelephonyGateway, request_id: int, settings: DispatchSettings, urls: Urls) -> str:
    """Place (or reconcile) the call for one claimed request; returns what happened."""
    # The request, its attempts, its store with the store's numbers, and its shopper: one query.
    row = db.session.execute(
        select(CallbackRequest, Merchant, Shopper)
        .join(Merchant, Merchant.id == CallbackRequest.merchant_id)
        .join(Shopper, Shopper.id == CallbackRequest.shopper_id)
        .where(CallbackRequest.id == request_id)
        .options(joinedload(CallbackRequest.attempts), joinedload(Merchant.numbers))
    ).unique().first()
    if row is None or row[0].lease_owner != settings.worker:
        return "lost lease"
    request, merchant, shopper = row
    number = callable_number(merchant)
    pending = next((a for a in request.attempts if a.state == "placing"), None)
    if pending is not None and number is not None:
        try:
            adopted = _reconcile(gateway, pending, number.e164)
        except ProviderError:
            request.lease_until = utcnow() + settings.backoff  # ask Twilio again later
            db.session.commit()
            return "reconcile deferred"
        if adopted:
            _release(request)
            db.session.commit()
            return "adopted"
    if pending is None and any(a.state == "placed" for a in request.attempts):
        _release(request)  # a placed call is running; its webhooks decide what comes next
        db.session.commit()
        return "in progress"
    refusal = unavailable_reason(merchant) or (
        "this shopper may not request callbacks" if shopper.blocked_at else None)
    if refusal:
        outcomes.finish(request, "failed", refusal)
        db.session.commit()
        return "failed"
    now = utcnow()
    if outcomes.reschedule_if_outside_window(request, now, settings.shopper_call_hours):
        db.session.commit()
        return request.status
    try:
        binding = allocate(number.e164, shopper.phone, ttl=settings.binding_ttl,
                           default_cap=settings.proxy_cap, country=number.region, merchant_id=merchant.id)
    except PoolExhausted:
        request.due_at, request.reason = now + POOL_WAIT, "waiting for a free proxy number"
        _release(request, "scheduled")
        db.session.commit()
        return "pool exhausted"
    request.binding_id = binding.id
    attempt = CallbackAttempt(request=request, seq=len(request.attempts) + 1,
                              proxy_number=binding.proxy_number.e164)
    db.session.add(attempt)
    db.session.flush()
    # Read before the commit expires them: reading them after it would cost a query each.
    attempt_id, to, from_ = attempt.id, number.e164, attempt.proxy_number
    db.session.commit()  # the attempt exists before Twilio hears of it
    try:
        sid = gateway.create_call(to=to, from_=from_, url=urls.answer(attempt_id),
                                  status_callback=urls.status(attempt_id, "merchant"))
    except ProviderError as exc:
        attempt.state, attempt.outcome, attempt.ended_at = "ended", "provider_error", utcnow()
        if exc.retryable:
            outcomes.retry_later(request, settings.backoff, "Twilio was unavailable; retrying",
                                 settings.shopper_call_hours)
        else:
            outcomes.finish(request, "failed", f"the call could not be placed (Twilio {exc.code})")
        db.session.commit()
        return "provider error"
    # A fast status callback may have stored the SID, ended the attempt or moved the request on
    # already: each change is made in the database only where it still applies.
    placing = CallbackAttempt.state == "placing"
    db.session.execute(
        update(CallbackAttempt).where(CallbackAttempt.id == attempt_id)
        .values(merchant_call_sid=func.coalesce(CallbackAttempt.merchant_call_sid, sid),
                state=case((placing, "placed"), else_=CallbackAttempt.state),
                placed_at=case((placing, utcnow()), else_=CallbackAttempt.placed_at))
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(CallbackRequest).where(CallbackRequest.id == request_id, CallbackRequest.status == "calling")
        .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
    db.session.commit()
    return "placed"


class Throttle:
    """At most `rate` calls per second (Twilio's default account limit is 1/s)."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep, self.next_at = clock, sleep, 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def _next_due_in(now: datetime) -> float | None:
    """Seconds until the next scheduled request falls due (None if none is waiting)."""
    moment = db.session.scalar(select(func.min(CallbackRequest.due_at)).where(
        CallbackRequest.status == "scheduled", CallbackRequest.due_at > now))
    db.session.rollback()  # no transaction stays open while the pass waits
    return None if moment is None else (as_utc(moment) - now).total_seconds()


# A pass's first claim is small: until it has timed its own placements it cannot know how
# many fit in the pass (under load one can take a tenth of a second or more).
FIRST_CLAIM = 5


def dispatch_once(gateway: TelephonyGateway, settings: DispatchSettings, urls: Urls,
                  throttle: Throttle | None = None, stop=lambda: False,
                  clock=time.monotonic, sleep=time.sleep) -> dict[str, int]:
    """One pass: claim what is due and place each call, throttled, for up to `pass_seconds`."""
    throttle = throttle or Throttle(settings.calls_per_second)
    counts: dict[str, int] = {}
    deadline = clock() + settings.pass_seconds
    placed, placing_time = 0, 0.0
    each = throttle.interval  # what one placement takes, as far as the pass knows yet
    # With no time to go on, one batch (the pass of old); else a first claim that surely fits.
    limit = max(1, _claim_size(settings, settings.pass_seconds, each)) if settings.pass_seconds > 0 \
        else settings.batch
    while not stop():
        claimed = claim_due(settings, limit=limit)
        if not claimed:
            remaining = deadline - clock()
            wait = _next_due_in(utcnow()) if remaining > 0 else None
            if wait is None or wait >= remaining:
                break
            while wait > 0 and not stop():  # wake up for SIGTERM too
                sleep(min(wait, 0.25))
                wait -= 0.25
            continue
        for request_id in claimed:
            if stop():
                break  # SIGTERM: the rest keep their lease and are picked up when it runs out
            started = clock()
            throttle.wait()
            try:
                result = place(gateway, request_id, settings, urls)
            except Exception:
                db.session.rollback()
                log.exception("placing callback %s failed; its lease will expire and it is retried",
                              request_id)
                result = "error"
            counts[result] = counts.get(result, 0) + 1
            placed, placing_time = placed + 1, placing_time + clock() - started
        if placed:
            each = max(placing_time / placed, throttle.interval)
        remaining = deadline - clock()
        limit = _claim_size(settings, remaining, each)
        if remaining <= 0 or limit < 1:
            break
    return counts


def _claim_size(settings: DispatchSettings, remaining: float, each: float) -> int:
    """How many requests fit in `remaining` seconds of a pass at `each` seconds per placement."""
    if each <= 0:
        return min(settings.batch, FIRST_CLAIM)
    return min(settings.batch, int(remaining / each))


def settings_from_config(config, worker: str) -> DispatchSettings:
    return DispatchSettings(
        worker=worker, calls_per_second=float(config["OUTBOUND_CPS"]),
        binding_ttl=timedelta(hours=config["BINDING_TTL_HOURS"]), proxy_cap=config["PROXY_NUMBER_CAP"],
        max_attempts=config["CALLBACK_MAX_ATTEMPTS"],
        backoff=timedelta(seconds=config["CALLBACK_RETRY_BACKOFF_SECONDS"]),
        shopper_call_hours=config["SHOPPER_CALL_HOURS"],
    )


__all__ = ["DispatchSettings", "Throttle", "Urls", "claim_due", "dispatch_once", "place"]
