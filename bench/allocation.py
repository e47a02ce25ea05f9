"""Concurrent `allocate()` calls, one process each, each committing every binding."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from bench.procs import context as process_context
from bench.setup_db import TTL, make_app, merchant_e164

Pair = tuple[str, str, int | None]  # party A (merchant), party B (shopper), merchant id


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

    `meter` (a `bench.machine.Meter`) is started and stopped around the allocations.
    """
    ctx = process_context()
    barrier, release, results = ctx.Barrier(len(work) + 1), ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(url, pairs, barrier, release, results), daemon=True)
               for pairs in work]
    outcome, starts, ends = AllocationResult(), [], []
    try:
        for proc in workers:
            proc.start()
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
        for proc in workers:
            proc.join(30)
    finally:
        release.set()
        for proc in workers:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
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
