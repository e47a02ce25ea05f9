"""Dispatching due callbacks: claim them with a lease, then place them (`placing`).

Claims lease requests to one scheduler process (PostgreSQL `FOR NO KEY
UPDATE SKIP LOCKED`; SQLite compare-and-set), so any number of schedulers can
run at once; `placing` explains why a scheduler killed at any point loses no
request and places no call twice.

A pass (`dispatch_once`, run by the scheduler's job every 2 s) does not stop
at one batch: it claims batch after batch for as long as work is due, and
waits for the next `due_at` when that falls within `pass_seconds`, so a
burst or a steady stream is worked off without gaps between runs of the job
and a request is placed within moments of falling due. Each claim is sized
to what the pass places in `pass_seconds`, so no scheduler leases more than
it can soon place; whatever a pass claims, it places.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import func, select

from registry.callbacks.models import CallbackRequest
from registry.callbacks.placing import CHUNK, Placement, begin
from registry.callbacks.settings import DispatchSettings, Urls
from registry.core.dialects import is_postgresql, lease_rows
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.core.transactions import commit_now
from registry.telephony import TelephonyGateway

log = logging.getLogger(__name__)

# The leases are stored before any call is placed: other schedulers pass over these requests
# from now on, the row locks are let go (a pass goes on for seconds), and a scheduler that dies
# leaves leases that run out rather than requests nobody knows are being placed.
CLAIMED = "the claim's leases hold before the pass places their calls"


def claim_due(settings: DispatchSettings, now: datetime | None = None, limit: int | None = None,
              stale: bool = True) -> list[int]:
    """Take up to `limit` (default `batch`) due requests, or (`stale`) ones whose lease ran out, for
    this worker; their ids, earliest due first."""
    now = now or utcnow()
    limit = settings.batch if limit is None else limit
    due = (CallbackRequest.status == "scheduled") & (CallbackRequest.due_at <= now)
    # Only a lease a scheduler still holds can go stale; a `calling` request with no owner
    # has its call placed already, and that call's webhooks decide what comes next.
    expired = (CallbackRequest.status == "calling") & CallbackRequest.lease_owner.is_not(None) \
        & (CallbackRequest.lease_until < now)
    lease = {"status": "calling", "lease_owner": settings.worker, "lease_until": now + settings.lease}
    if is_postgresql(db.session):
        # Two statements, each an index range rather than one OR that reads and sorts the whole
        # table on every claim: stale leases first (the caller asks for those once a pass: they
        # are rare, and looking means stepping over every `calling` request), then due requests
        # in `due_at` order straight off ix_callback_requests_due.
        rows = lease_rows(CallbackRequest, expired, CallbackRequest.due_at, lease, limit) if stale else []
        if len(rows) < limit:
            rows += lease_rows(CallbackRequest, due, CallbackRequest.due_at, lease, limit - len(rows))
    else:
        rows = lease_rows(CallbackRequest, due | expired if stale else due, CallbackRequest.due_at, lease,
                          limit)
    commit_now(CLAIMED)
    return [row.id for row in sorted(rows, key=lambda row: row.key)]


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


# Seconds between looks for leases that ran out, within one pass (a lease lasts 120 s).
STALE_EVERY = 5.0
# A pass's first claim is small: until it has timed its own placements it cannot know how
# many fit in the pass (under load one can take a tenth of a second or more).
FIRST_CLAIM = 5


def dispatch_once(gateway: TelephonyGateway, settings: DispatchSettings, urls: Urls,
                  throttle: Throttle | None = None, stop=lambda: False,
                  clock=time.monotonic, sleep=time.sleep) -> dict[str, int]:
    """One pass: claim what is due and place each call, throttled, until nothing falls due within
    `pass_seconds` (what does, it waits for)."""
    throttle = throttle or Throttle(settings.calls_per_second)
    chunks = _Pipeline(gateway, settings, urls)
    deadline = clock() + settings.pass_seconds
    placed, placing_time = 0, 0.0
    each = throttle.interval  # what one placement takes, as far as the pass knows yet
    limit = _claim_size(settings, each)
    # Leases that ran out (a scheduler died) are rare, and looking for them means stepping over
    # every `calling` request (see claim_due): a pass looks at its start and, as it may go on
    # for as long as work is due, every STALE_EVERY seconds of it.
    stale_at = clock()
    try:
        while not stop():
            stale = clock() >= stale_at
            if stale:
                stale_at = clock() + STALE_EVERY
            claimed = claim_due(settings, limit=limit, stale=stale)
            if not claimed:
                chunks.settle()
                remaining = deadline - clock()
                wait = _next_due_in(utcnow()) if remaining > 0 else None
                if wait is None or wait >= remaining:
                    break
                while wait > 0 and not stop():  # wake up for SIGTERM too
                    sleep(min(wait, 0.25))
                    wait -= 0.25
                continue
            # Unthrottled, calls go in chunks (attempts written together, Twilio asked at once);
            # throttled, one at a time, each after its turn.
            chunk = CHUNK if not throttle.interval else 1
            for start in range(0, len(claimed), chunk):
                if stop():
                    break  # SIGTERM: the rest keep their lease and are picked up when it runs out
                request_ids = claimed[start:start + chunk]
                started = clock()
                throttle.wait()
                chunks.begin(request_ids)
                if throttle.interval:
                    chunks.settle()  # one call a turn: nothing to overlap
                placed, placing_time = placed + len(request_ids), placing_time + clock() - started
            if settings.pass_seconds <= 0:
                break  # one batch only
            # Work was due: the pass goes on while it lasts (the job's runs meanwhile are skipped),
            # and waits for what falls due within `pass_seconds` from now, rather than leave a
            # backlog or a steady stream of requests to the job's next run.
            deadline = clock() + settings.pass_seconds
            if placed:
                each = max(placing_time / placed, throttle.interval)
            limit = _claim_size(settings, each)
    finally:
        chunks.settle()
    return chunks.counts


class _Pipeline:
    """The chunks of a pass: while Twilio answers one chunk's requests, the next chunk's
    attempts are written and its requests sent; then the first chunk's answers are stored.
    A chunk waits for its own slowest answer, not for the slowest of the chunk before."""

    def __init__(self, gateway: TelephonyGateway, settings: DispatchSettings, urls: Urls):
        self.gateway, self.settings, self.urls = gateway, settings, urls
        self.counts: dict[str, int] = {}
        self.in_flight: Placement | None = None

    def begin(self, request_ids: list[int]) -> None:
        """Place a chunk, then store the answers of the one before it."""
        try:
            placement = begin(self.gateway, request_ids, self.settings, self.urls)
        except Exception:
            db.session.rollback()
            log.exception("placing callbacks %s failed; their leases will expire and they are retried",
                          request_ids)
            self._count(["error"] * len(request_ids))
            placement = None
        self.settle()
        self.in_flight = placement

    def settle(self) -> None:
        """Store the answers of the chunk in flight, if any."""
        placement, self.in_flight = self.in_flight, None
        if placement is None:
            return
        try:
            results = placement.finish()
        except Exception:
            db.session.rollback()
            log.exception("storing the calls of callbacks %s failed; their leases will expire and "
                          "they are reconciled", placement.request_ids)
            results = ["error"] * len(placement.request_ids)
        self._count(results)

    def _count(self, results: list[str]) -> None:
        for result in results:
            self.counts[result] = self.counts.get(result, 0) + 1


def _claim_size(settings: DispatchSettings, each: float) -> int:
    """How many requests a claim takes: what the pass places in `pass_seconds` at `each` seconds
    a placement (a small first claim while that is unknown), at most `batch`; a whole `batch`
    for a pass of one claim (`pass_seconds` 0)."""
    if settings.pass_seconds <= 0:
        return settings.batch
    if each <= 0:
        return min(settings.batch, FIRST_CLAIM)
    return max(1, min(settings.batch, int(settings.pass_seconds / each)))


__all__ = ["Throttle", "claim_due", "dispatch_once"]
