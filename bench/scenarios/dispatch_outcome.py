"""What the dispatch benchmark found: per request, when its call reached the simulator.

Each `Calls.json` create the simulator recorded is tied to its attempt and
request: the delay from the request's `due_at`, calls placed before they
were due, duplicates (on the simulator's side and the app's) and requests
never placed. `rows()` turns that into the table.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text

from bench.harness.tables import Row, number
from bench.harness.timing import percentile

P99_TARGET_S = 2.0
FINAL = ("completed", "failed", "expired", "canceled")


@dataclass
class Outcome:
    requests: int
    placed: int
    latencies: list[float]
    early: int
    duplicates: int
    lost: int
    errors: Counter
    span: float
    statuses: Counter
    webhook_failures: int
    stopped_early: bool
    handling: list[float]
    cpu: dict  # CPU seconds: "schedulers", "simulator", "postgres"; "each": per scheduler process
    load: float
    loop_ms: float  # bench.harness.machine.loop_ms() before the run: how fast the machine was
    maintenance: int | None  # ANALYZE/VACUUM runs standing in for autovacuum; None: autovacuum on


def collect(app, recorder, state, stopped_early: bool, cpu: dict, load: float, speed: float,
            maintenance: int | None) -> Outcome:
    from registry.core.extensions import db

    with app.app_context():
        requests = {rid: (due, status) for rid, due, status in db.session.execute(text(
            "SELECT id, due_at, status FROM callback_requests"))}
        attempts = {aid: rid for aid, rid in db.session.execute(text(
            "SELECT id, request_id FROM callback_attempts"))}
        # The app's side: attempts that got a CallSid beyond one per request (no retry is due in
        # the run, so any second one would be a second call).
        db_duplicates = db.session.scalar(text(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM callback_attempts "
            "WHERE merchant_call_sid IS NOT NULL GROUP BY request_id) AS placed"))
        db.session.remove()
    creates = list(recorder.creates)
    first_arrival: dict[int, float] = {}
    per_request: Counter = Counter()
    per_attempt: Counter = Counter()
    errors: Counter = Counter()
    early = 0
    for create in creates:
        request_id = attempts.get(create.attempt_id)
        if request_id is not None and create.arrived < requests[request_id][0].timestamp():
            early += 1
        if create.status != 201:
            errors[create.status] += 1
            continue
        per_attempt[create.attempt_id] += 1
        if request_id is None:
            continue  # no such attempt: counted as a duplicate below
        per_request[request_id] += 1
        first_arrival[request_id] = min(first_arrival.get(request_id, math.inf), create.arrived)
    orphans = sum(n for attempt, n in per_attempt.items() if attempt not in attempts)
    duplicates = max(orphans + sum(n - 1 for n in per_request.values() if n > 1), int(db_duplicates))
    lost = sum(1 for rid, (_, status) in requests.items() if rid not in first_arrival and status not in FINAL)
    latencies = sorted(first_arrival[rid] - requests[rid][0].timestamp() for rid in first_arrival)
    arrivals = sorted(first_arrival.values())
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else math.nan
    webhook_failures = sum(1 for r in state.webhook_log() if r.error or (r.status_code or 0) >= 400)
    return Outcome(len(requests), len(first_arrival), latencies, early, duplicates, lost, errors, span,
                   Counter(status for _, status in requests.values()), webhook_failures, stopped_early,
                   sorted(c.handling for c in creates), cpu, load, speed, maintenance)


def rows(outcome: Outcome, requests: int, spread: float, schedulers: int) -> list[Row]:
    p50, p99 = percentile(outcome.latencies, 0.50), percentile(outcome.latencies, 0.99)
    rate = outcome.placed / outcome.span if outcome.span and outcome.span == outcome.span else math.nan
    errors = ", ".join(f"{n} x HTTP {status}" for status, n in sorted(outcome.errors.items()))

    def per_call_ms(cpu_seconds: float) -> str:
        return number(cpu_seconds * 1000 / max(outcome.placed, 1), 1)

    return [
        Row("dispatch: requests due in one window",
            f"{outcome.requests:,} over {spread:g} s, {schedulers} schedulers"),
        Row("dispatch: placed (Calls.json 201)", f"{outcome.placed:,}", f"{outcome.requests:,}",
            outcome.placed == outcome.requests),
        Row("dispatch: due_at -> Twilio request p50 (s)", number(p50, 3)),
        Row("dispatch: due_at -> Twilio request p99 (s)", number(p99, 3), f"<= {P99_TARGET_S:g} s",
            p99 <= P99_TARGET_S),
        Row("dispatch: due_at -> Twilio request max (s)",
            number(outcome.latencies[-1] if outcome.latencies else math.nan, 3)),
        Row("dispatch: calls placed per second", number(rate, 1), f"(due at {requests / spread:,.0f}/s)"),
        Row("dispatch: calls placed before due", f"{outcome.early:,}", "0", outcome.early == 0),
        Row("dispatch: duplicate Twilio requests", f"{outcome.duplicates:,}", "0", outcome.duplicates == 0),
        Row("dispatch: lost requests", f"{outcome.lost:,}", "0", outcome.lost == 0),
        Row("dispatch: Twilio errors", errors or "0"),
        Row("dispatch: simulator time per Calls.json p50 / p99 (ms)",
            f"{number(percentile(outcome.handling, 0.50) * 1000, 1)} / "
            f"{number(percentile(outcome.handling, 0.99) * 1000, 1)}"),
        Row("dispatch: CPU ms per call: schedulers / simulator+stub / PostgreSQL",
            " / ".join(per_call_ms(outcome.cpu[k]) for k in ("schedulers", "simulator", "postgres"))),
        Row("dispatch: CPU ms per call, each scheduler process",
            " / ".join(per_call_ms(cpu) for cpu in outcome.cpu.get("each", []))),
        Row("dispatch: machine", f"{os.cpu_count()} cores, load average {outcome.load:.1f} at the start, "
            f"a fixed Python loop {outcome.loop_ms:.0f} ms of CPU (lower is faster)"),
        Row("dispatch: statistics", "autovacuum on" if outcome.maintenance is None else
            f"autovacuum off; {outcome.maintenance} ANALYZE/VACUUM run as it would"),
        Row("dispatch: run ended by the time limit", "yes" if outcome.stopped_early else "no"),
        Row("dispatch: webhooks", "simulator -> stub (204 / <Hangup/>); "
            f"{outcome.webhook_failures} failed"),
    ]
