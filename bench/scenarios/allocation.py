"""Allocation: concurrent `allocate()` calls, one process each, each committing every binding.

`run()` is also how the pool scenario allocates its marketplace.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from bench.harness.app import make_app
from bench.harness.database import with_connection
from bench.harness.fixtures import merchant_e164
from bench.harness.machine import Meter, busy_cell, note_other_work
from bench.harness.processes import context as process_context
from bench.harness.processes import worker_processes
from bench.harness.statistics import keep_statistics
from bench.harness.tables import Row, number
from bench.scenarios.masked_data import TTL, counter_mismatches, default_cap, masking_violations

Pair = tuple[str, str, int | None]  # party A (merchant), party B (shopper), merchant id
PER_SECOND = 1000.0
TABLES = ("bindings", "proxy_numbers")  # whose statistics the allocations change


@dataclass
class AllocationResult:
    allocated: int = 0
    exhausted: int = 0  # PoolExhausted: no number could take the pair
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.allocated / self.seconds if self.seconds else 0.0


def _worker(url: str, pairs: list[Pair], barrier, release, results) -> None:
    from sqlalchemy import text

    from registry.core.extensions import db
    from registry.masking.allocation import PoolExhausted, allocate

    outcome = {"allocated": 0, "exhausted": 0, "errors": 0, "samples": [], "start": 0.0, "end": 0.0}
    try:
        app = make_app(url)
        with app.app_context():
            cap = app.config["PROXY_NUMBER_CAP"]
            db.session.execute(text("SELECT 1"))  # connected before the clock starts
            db.session.rollback()
            barrier.wait(timeout=300)
            outcome["start"] = time.monotonic()
            for party_a, party_b, merchant_id in pairs:
                try:
                    allocate(party_a, party_b, ttl=TTL, default_cap=cap, country="CN",
                             merchant_id=merchant_id)
                    db.session.commit()
                    outcome["allocated"] += 1
                except PoolExhausted:
                    db.session.rollback()
                    outcome["exhausted"] += 1
                except Exception as exc:  # counted and shown, never hidden
                    db.session.rollback()
                    outcome["errors"] += 1
                    if len(outcome["samples"]) < 3:
                        outcome["samples"].append(f"{type(exc).__name__}: {str(exc)[:200]}")
            outcome["end"] = time.monotonic()
            db.session.remove()
            results.put(outcome)
            # Connected until the parent has read the machine's CPU counters.
            release.wait(timeout=120)
            db.engine.dispose()
            return
    except Exception as exc:  # a worker that cannot even start is one error per pair
        outcome["errors"] += len(pairs) - outcome["allocated"] - outcome["exhausted"]
        outcome["samples"].append(f"worker failed: {type(exc).__name__}: {str(exc)[:200]}")
        barrier.abort()
    results.put(outcome)


def run(url: str, work: list[list[Pair]], meter=None) -> AllocationResult:
    """Each list of pairs allocated by its own process, all starting together.

    `meter` (a `bench.harness.machine.Meter`) is started and stopped around the allocations.
    """
    ctx = process_context()
    barrier, release, results = ctx.Barrier(len(work) + 1), ctx.Event(), ctx.Queue()
    outcome, starts, ends = AllocationResult(), [], []
    arglists = [(url, pairs, barrier, release, results) for pairs in work]
    with worker_processes(ctx, _worker, arglists) as workers:
        try:
            barrier.wait(timeout=300)
        except threading.BrokenBarrierError:
            pass  # a worker failed to start: its result says so
        if meter is not None:
            meter.start()
        for _ in workers:
            part = results.get(timeout=1800)
            outcome.allocated += part["allocated"]
            outcome.exhausted += part["exhausted"]
            outcome.errors += part["errors"]
            outcome.error_samples = (outcome.error_samples + part["samples"])[:5]
            if part["end"]:
                starts.append(part["start"])
                ends.append(part["end"])
        if meter is not None:
            meter.stop()
        release.set()
    outcome.seconds = max(ends) - min(starts) if ends else 0.0
    return outcome


def new_pairs(workers: int, per_worker: int, merchants: int, seed: int = 1) -> list[list[Pair]]:
    """New (merchant, shopper) pairs on top of the loaded ones: existing merchants,
    each already busy, picked at random; shoppers never seen before."""
    rng = random.Random(seed)
    work = []
    for w in range(workers):
        pairs = []
        for n in range(per_worker):
            m = rng.randrange(merchants) + 1
            pairs.append((merchant_e164(m), f"+86135{w:02d}{n:06d}", m))
        work.append(pairs)
    return work


def _cpu_per_binding(result: AllocationResult, meter: Meter | None) -> str:
    """"workers / PostgreSQL" CPU ms per binding allocated."""
    if meter is None or not meter.cpu_seconds or not result.allocated:
        return "n/a"
    return " / ".join(number(meter.cpu_seconds[part] * 1000 / result.allocated, 2)
                      for part in ("rest", "postgres"))


def rows(result: AllocationResult, requested: int, workers: int, violations: int, mismatches: int,
         meter: Meter | None = None) -> list[Row]:
    return [
        Row(f"allocation: bindings/s ({workers} processes)", number(result.rate),
            f">= {PER_SECOND:,.0f}", result.rate >= PER_SECOND),
        Row("allocation: allocated / asked", f"{result.allocated:,} / {requested:,}", "all",
            result.allocated == requested),
        Row("allocation: errors / pool exhausted", f"{result.errors} / {result.exhausted}", "0 / 0",
            result.errors == 0 and result.exhausted == 0),
        Row("allocation: masking violations", number(violations), "0", violations == 0),
        Row("allocation: counters off", number(mismatches), "0", mismatches == 0),
        Row("allocation: CPU ms/binding: workers / PostgreSQL", _cpu_per_binding(result, meter)),
        Row("allocation: machine busy (other work)", busy_cell(meter and meter.busy, meter and meter.others)),
    ]


def measure(settings, setup, log, notes: list[str], analyzes: list[str]) -> list[Row]:
    """New pairs allocated on top of the loaded database by `settings.alloc_workers` processes."""
    work = new_pairs(settings.alloc_workers, settings.alloc_per_worker, setup.merchants)
    log(f"allocation: {settings.alloc_workers} processes x {settings.alloc_per_worker:,} new pairs")
    meter = Meter(setup.url)
    with keep_statistics(setup.url, TABLES) as keeper:
        allocated = run(setup.url, work, meter)
    if keeper.active:
        analyzes.append(keeper.note("the allocations"))
    violations, mismatches = with_connection(setup.url, lambda conn: (
        masking_violations(conn), counter_mismatches(conn, default_cap())))
    log(f"allocation: {allocated.rate:,.0f} bindings/s, {allocated.errors} errors, "
        f"{violations} violations")
    note_other_work(notes, "the allocations", meter.others)
    return rows(allocated, sum(map(len, work)), settings.alloc_workers, violations, mismatches, meter)
