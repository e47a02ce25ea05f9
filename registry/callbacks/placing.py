"""Placing claimed callbacks: write the attempt, then ask Twilio, then store the SID.

Crash safety comes from the order of commits:
1. claim (`dispatch.claim_due`): the request moves `scheduled -> calling`
   with a lease (commit);
2. the attempt row is written in state `placing` (commit) *before* Twilio
   is asked, so a dead scheduler always leaves a trace;
3. Twilio's CallSid is stored and the attempt becomes `placed` (commit).
A scheduler that finds a `placing` attempt under an expired lease asks
Twilio whether that call exists (calls from the proxy to the merchant since
the attempt began) and adopts it, so no attempt is ever placed twice; if
Twilio has no such call, the attempt is closed as not placed and the
request is due again at once.

Unthrottled, claimed requests are placed in chunks of `CHUNK`: one
transaction allocates and writes every attempt of the chunk (step 2, one
commit), the chunk's Twilio requests then go out together from a small
thread pool (placing a call is mostly waiting for Twilio), and their SIDs
are stored together (step 3, one commit). A pass pipelines the chunks: it
writes the next chunk's attempts while Twilio answers this one's (`begin`,
then `Placement.finish`), so a chunk does not wait for the slowest answer
of the one before. The order of commits for each call, and so crash
safety, is the same as when they went one by one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, bindparam, case, func, insert, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from registry.callbacks import events, outcomes
from registry.callbacks.checks import check, release
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.operations import callable_number
from registry.core.dialects import is_postgresql
from registry.core.extensions import db
from registry.core.metrics import DISPATCH_LAG
from registry.core.timeutil import as_utc, utcnow
from registry.core.transactions import commit_now
from registry.masking.allocation import PoolExhausted, allocate
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.telephony import ProviderError, TelephonyGateway

if TYPE_CHECKING:
    from registry.callbacks.settings import DispatchSettings, Urls

log = logging.getLogger(__name__)
POOL_WAIT = timedelta(seconds=60)


@dataclass
class _Call:
    """A call whose attempt row is committed and that Twilio is to be asked for."""

    request_id: int
    attempt_id: int
    to: str
    from_: str
    due_at: datetime | None = None  # for the dispatch lag (due -> placed)


@dataclass
class Placement:
    """A chunk whose attempts are committed and whose Twilio requests are under way."""

    request_ids: Sequence[int]
    settings: DispatchSettings
    results: dict[int, str]
    calls: list[_Call]
    answers: list[Future]

    def finish(self) -> list[str]:
        """Wait for Twilio's answers and store them (one commit); what happened to each request."""
        if self.calls:
            _record(self.calls, [answer.result() for answer in self.answers], self.settings, self.results)
        return [self.results[request_id] for request_id in self.request_ids]


def begin(gateway: TelephonyGateway, request_ids: Sequence[int], settings: DispatchSettings,
          urls: Urls) -> Placement:
    """Write the chunk's attempts (one commit) and ask Twilio for its calls, without waiting
    for the answers: the caller prepares the next chunk meanwhile, then `finish`es this one.

    Should preparing one request fail, the transaction is rolled back and each request is
    placed on its own, so one bad request costs the others nothing.
    """
    try:
        results, calls = _prepare(gateway, request_ids, settings)
    except Exception:
        db.session.rollback()
        if len(request_ids) == 1:
            raise
        db.session.expunge_all()  # nothing read in the rolled-back transaction is to be trusted
        results = {}
        for request_id in request_ids:
            try:
                [results[request_id]] = begin(gateway, [request_id], settings, urls).finish()
            except Exception:
                db.session.rollback()
                log.exception("placing callback %s failed; its lease will expire and it is retried",
                              request_id)
                results[request_id] = "error"
        return Placement(request_ids, settings, results, [], [])
    return Placement(request_ids, settings, results, calls, _ask_twilio(gateway, calls, urls))


def _prepare(gateway: TelephonyGateway, request_ids: Sequence[int],
             settings: DispatchSettings) -> tuple[dict[int, str], list[_Call]]:
    """Check each request, allocate its proxy number and write its attempt; commit once.

    Returns what happened to the requests that need no call, and the calls to place."""
    # The requests, their stores with the stores' numbers, their shoppers: one query; their attempts
    # a second, by index (joined in, the generic plan of a prepared statement scans every attempt).
    rows = db.session.execute(
        select(CallbackRequest, Merchant, Shopper)
        .join(Merchant, Merchant.id == CallbackRequest.merchant_id)
        .join(Shopper, Shopper.id == CallbackRequest.shopper_id)
        .where(CallbackRequest.id.in_(request_ids))
        .options(selectinload(CallbackRequest.attempts), joinedload(Merchant.numbers))
    ).unique().all()
    found = {row[0].id: row for row in rows}
    results: dict[int, str] = {}
    planned = []  # (request, binding id, proxy number, merchant number)
    for request_id in request_ids:
        row = found.get(request_id)
        if row is None or row[0].lease_owner != settings.worker:
            results[request_id] = "lost lease"
            continue
        request, merchant, shopper = row
        result = check(gateway, request, merchant, shopper, settings)
        if result is not None:
            results[request_id] = result
            continue
        number, now = callable_number(merchant), utcnow()
        try:
            binding = allocate(number.e164, shopper.phone, ttl=settings.binding_ttl,
                               default_cap=settings.proxy_cap, country=number.region,
                               merchant_id=merchant.id)
        except PoolExhausted:
            request.due_at, request.reason = now + POOL_WAIT, "waiting for a free proxy number"
            release(request, "scheduled")
            results[request_id] = "pool exhausted"
            continue
        planned.append((request, binding.id, binding.proxy_number.e164, number.e164))
    # The attempts go in together (one multi-row INSERT, one UPDATE for the requests' bindings)
    # once every allocation is done, in Core: nothing reads them back through the session.
    calls = []
    if planned:
        attempts, requests = CallbackAttempt.__table__, CallbackRequest.__table__
        db.session.flush()  # whatever the checks changed goes first, as it would have
        ids = db.session.execute(
            insert(attempts).returning(attempts.c.id, sort_by_parameter_order=True),
            [{"request_id": request.id, "seq": len(request.attempts) + 1, "proxy_number": proxy}
             for request, _, proxy, _ in planned]).scalars().all()
        if is_postgresql(db.session):
            # One statement, the same text whatever the chunk's size (prepared once per connection),
            # rather than one UPDATE per request.
            db.session.execute(_PG_SET_BINDINGS, {
                "ids": [request.id for request, _, _, _ in planned],
                "bindings": [binding_id for _, binding_id, _, _ in planned], "now": utcnow()})
        else:
            db.session.execute(
                update(requests).where(requests.c.id == bindparam("b_id"))
                .values(binding_id=bindparam("b_binding")),
                [{"b_id": request.id, "b_binding": binding_id} for request, binding_id, _, _ in planned])
        calls = [_Call(request.id, attempt_id, to, proxy, as_utc(request.due_at))
                 for (request, _, proxy, to), attempt_id in zip(planned, ids, strict=True)]
        for request, _, _, _ in planned:  # in the same commit as the attempts
            events.notify(request)
    # Step 2 of the module's order: the attempts exist before Twilio hears of them, so a
    # scheduler that dies while asking leaves a `placing` attempt to reconcile, never a call
    # nobody knows about (and never one placed twice).
    commit_now("the attempts are stored before Twilio is asked for their calls")
    return results, calls


# Requests placed together (unthrottled): their attempts are written in one transaction and
# their Twilio requests go out at once (placing a call is mostly waiting for Twilio's answer).
# Small, so the proxy numbers the allocations lock are held only briefly, and a pass can stop
# soon after SIGTERM; 10 kept two schedulers on two cores just short of 167 calls/s.
CHUNK = 20
# Twilio requests in flight at once: a chunk's, and the one before it still being answered.
IN_FLIGHT = 2 * CHUNK
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _twilio_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="twilio-call")
        return _pool


def _ask_twilio(gateway: TelephonyGateway, calls: list[_Call], urls: Urls) -> list[Future]:
    """Ask for every call at once; each future's result is the CallSid, or the exception
    asking for it raised."""

    def ask(call: _Call) -> str | Exception:
        try:
            return gateway.create_call(to=call.to, from_=call.from_, url=urls.answer(call.attempt_id),
                                       status_callback=urls.status(call.attempt_id, "merchant"))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, which decides
            return exc

    gateway.client  # noqa: B018 - built here, not by racing threads
    return [_twilio_pool().submit(ask, call) for call in calls]


# PostgreSQL: a chunk's bindings and SIDs each stored by one statement of fixed text. `id = ANY`, not a
# join with unnest(): that is a primary key look-up in any plan, where a generic plan of the join
# (what a statement prepared by psycopg ends up with) hashes the array and scans the whole table.
_PG_SET_BINDINGS = text(
    "UPDATE callback_requests SET updated_at = :now, "
    "binding_id = (CAST(:bindings AS integer[]))[array_position(CAST(:ids AS integer[]), id)] "
    "WHERE id = ANY(CAST(:ids AS integer[]))").bindparams(bindparam("now", type_=DateTime(timezone=True)))
_PG_SET_SIDS = text(
    "UPDATE callback_attempts SET "
    "merchant_call_sid = coalesce(merchant_call_sid, "
    "(CAST(:sids AS varchar[]))[array_position(CAST(:ids AS integer[]), id)]), "
    "state = CASE WHEN state = 'placing' THEN 'placed' ELSE state END, "
    "placed_at = CASE WHEN state = 'placing' THEN :now ELSE placed_at END "
    "WHERE id = ANY(CAST(:ids AS integer[]))").bindparams(bindparam("now", type_=DateTime(timezone=True)))


def _record(calls: list[_Call], answers: list[str | Exception], settings: DispatchSettings,
            results: dict[int, str]) -> None:
    """Store each CallSid and release its lease, or handle the refusal; commit once."""
    placed = [(call, sid) for call, sid in zip(calls, answers, strict=True) if isinstance(sid, str)]
    if placed:
        # A fast status callback may have stored the SID, ended the attempt or moved the request
        # on already: each change is made in the database only where it still applies.
        attempts, requests, now = CallbackAttempt.__table__, CallbackRequest.__table__, utcnow()
        placing = attempts.c.state == "placing"
        if is_postgresql(db.session):
            db.session.execute(_PG_SET_SIDS, {"ids": [call.attempt_id for call, _ in placed],
                                              "sids": [sid for _, sid in placed], "now": now})
        else:
            db.session.execute(
                update(attempts).where(attempts.c.id == bindparam("b_id"))
                .values(merchant_call_sid=func.coalesce(attempts.c.merchant_call_sid, bindparam("b_sid")),
                        state=case((placing, "placed"), else_=attempts.c.state),
                        placed_at=case((placing, now), else_=attempts.c.placed_at)),
                [{"b_id": call.attempt_id, "b_sid": sid} for call, sid in placed])
        db.session.execute(
            update(requests).where(requests.c.id.in_([call.request_id for call, _ in placed]),
                                   requests.c.status == "calling")
            .values(lease_owner=None, lease_until=None))
        for call, _ in placed:
            results[call.request_id] = "placed"
            if call.due_at is not None:
                DISPATCH_LAG.observe(max((now - call.due_at).total_seconds(), 0.0))
    for call, answer in zip(calls, answers, strict=True):
        if isinstance(answer, str):
            continue
        if not isinstance(answer, ProviderError):
            # The attempt stays `placing` under this scheduler's lease: when that runs out, the
            # next scheduler asks Twilio whether the call exists.
            log.error("placing callback %s failed; its lease will expire and it is reconciled",
                      call.request_id, exc_info=answer)
            results[call.request_id] = "error"
            continue
        attempt = db.session.get(CallbackAttempt, call.attempt_id)
        attempt.state, attempt.outcome, attempt.ended_at = "ended", "provider_error", utcnow()
        if answer.retryable:
            outcomes.retry_later(attempt.request, settings.backoff, "Twilio was unavailable; retrying",
                                 settings.shopper_call_hours)
        else:
            outcomes.finish(attempt.request, "failed", f"the call could not be placed (Twilio {answer.code})")
        results[call.request_id] = "provider error"
    # Step 3: each chunk's SIDs are stored as its answers come, while the pass goes on with
    # the next chunks: the leases are released and the calls' webhooks find their attempts.
    commit_now("the chunk's placed calls are stored while the pass goes on")


__all__ = ["CHUNK", "Placement", "begin"]
