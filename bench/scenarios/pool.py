"""Pool efficiency: how many proxy numbers a skewed marketplace really needs.

A few big merchants with hundreds of concurrent shoppers, many small ones,
shoppers mostly talking to one merchant and some to two or three. The
lower bound on direct numbers is max(busiest party's partners,
ceil(bindings / cap)); the measure is numbers used / that bound. Allocated
once in one process (the algorithm alone) and once by concurrent processes
(as the scheduler's workers would).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import text

from bench.harness.app import make_app
from bench.harness.database import create_database
from bench.harness.fixtures import insert_merchants, insert_proxies, merchant_e164, shopper_e164
from bench.harness.statistics import keep_statistics
from bench.harness.tables import Row, number
from bench.scenarios import allocation
from bench.scenarios.masked_data import counter_mismatches, masking_violations

RATIO = 1.1


@dataclass
class PoolResult:
    bindings: int
    numbers_used: int
    busiest_degree: int
    lower_bound: int
    exhausted: int
    errors: int
    violations: int
    counter_mismatches: int
    error_samples: list[str]

    @property
    def ratio(self) -> float:
        return self.numbers_used / self.lower_bound if self.lower_bound else float("inf")


def marketplace(shape) -> tuple[int, list[allocation.Pair]]:
    """(merchants, pairs) of a skewed marketplace, the same for the same seed."""
    rng = random.Random(shape.seed)
    degrees = [rng.randint(*shape.big_shoppers) for _ in range(shape.big_merchants)]
    degrees += [rng.randint(*shape.small_shoppers) for _ in range(shape.small_merchants)]
    partners: list[set[int]] = []  # shopper index -> merchant indexes
    pairs = []
    for m, degree in enumerate(degrees, start=1):
        for _ in range(degree):
            shopper = None
            if partners and rng.random() < shape.repeat_share:
                for _try in range(10):
                    candidate = rng.randrange(len(partners))
                    if m not in partners[candidate] and len(partners[candidate]) < shape.max_merchants:
                        shopper = candidate
                        break
            if shopper is None:
                partners.append(set())
                shopper = len(partners) - 1
            partners[shopper].add(m)
            pairs.append((merchant_e164(m), shopper_e164(shopper + 1), m))
    rng.shuffle(pairs)
    return len(degrees), pairs


def _outcome(conn, cap: int, run: allocation.AllocationResult) -> PoolResult:
    direct = "ended_at IS NULL AND extension IS NULL"
    bindings = conn.scalar(text(f"SELECT count(*) FROM bindings WHERE {direct}"))  # noqa: S608
    used = conn.scalar(text(
        f"SELECT count(DISTINCT proxy_number_id) FROM bindings WHERE {direct}"))  # noqa: S608
    busiest = conn.scalar(text(
        f"SELECT coalesce(max(n), 0) FROM (SELECT party, count(*) AS n FROM ("  # noqa: S608
        f"SELECT party_a_hash AS party FROM bindings WHERE {direct} UNION ALL "
        f"SELECT party_b_hash FROM bindings WHERE {direct}) AS p GROUP BY party) AS d"))
    bound = max(busiest, math.ceil(bindings / cap))
    return PoolResult(bindings, used, busiest, bound, run.exhausted, run.errors,
                      masking_violations(conn), counter_mismatches(conn, cap), run.error_samples)


def measure(settings, log, notes: list[str] | None = None) -> tuple[PoolResult, PoolResult]:
    """(sequential, concurrent) allocation of the same marketplace on a fresh database.

    `notes` gets how many ANALYZEs stood in for autovacuum, where it is off."""
    from registry.core.extensions import db

    shape = settings.pool
    merchants, pairs = marketplace(shape)
    url = create_database(settings.admin_url, settings.pool_db_name)
    app = make_app(url)
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            insert_proxies(conn, 1, shape.numbers)
            conn.execute(text("UPDATE proxy_numbers SET cap = :cap"), {"cap": shape.cap})
            insert_merchants(conn, merchants)
        results = []
        for workers in (1, settings.pool_workers):
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM bindings"))
                conn.execute(text("UPDATE proxy_numbers SET active_bindings = 0, has_room = true"))
            db.engine.dispose()
            with keep_statistics(url, allocation.TABLES) as keeper:
                run = allocation.run(url, [pairs[w::workers] for w in range(workers)])
            if keeper.active and notes is not None:
                notes.append(keeper.note(f"the pool measure with {workers} process(es)"))
            with db.engine.connect() as conn:
                results.append(_outcome(conn, shape.cap, run))
            log(f"pool: {workers} worker(s): {results[-1].bindings:,} bindings on "
                f"{results[-1].numbers_used} numbers, lower bound {results[-1].lower_bound}")
        db.engine.dispose()
    return results[0], results[1]


def rows(sequential: PoolResult, concurrent: PoolResult, workers: int) -> list[Row]:
    table = [Row("pool: bindings (busiest party's partners)",
                 f"{sequential.bindings:,} ({sequential.busiest_degree})")]
    for label, result in (("1 process", sequential), (f"{workers} processes", concurrent)):
        table += [
            Row(f"pool ({label}): numbers used / lower bound",
                f"{result.numbers_used:,} / {result.lower_bound:,}"),
            Row(f"pool ({label}): used / lower bound", number(result.ratio, 3), f"<= {RATIO:g}",
                result.ratio <= RATIO),
            Row(f"pool ({label}): errors, exhausted, violations",
                f"{result.errors}, {result.exhausted}, {result.violations + result.counter_mismatches}",
                "0, 0, 0", result.errors == result.exhausted == result.violations
                == result.counter_mismatches == 0),
        ]
    return table
