"""Once per period across hosts: a lease per (job, period) in the `job_runs` table.

Several scheduler processes (one per host, or more) run the same periodic jobs. The jobs that
must run once per period (a daily retention, an hourly lapse) first claim their period here:

- the period is the UTC interval the job's length divides time into (a daily job's period
  starts at midnight UTC, an hourly one's on the hour), so every host computes the same one;
- `claim` inserts the (job, period) row with ON CONFLICT DO NOTHING; the one scheduler whose
  insert lands holds the lease. Another may take the row over only while nobody finished it
  and its lease has run out (a compare-and-set UPDATE): the holder was killed mid-job;
- the holder renews its lease while the job runs (`renew`, PostgreSQL), and `finish` marks the
  row done in the job's own transaction, only if it still holds the lease: should another
  scheduler have taken the period over meanwhile, the late holder's work is rolled back
  (`LeaseLost`), so the work of a period is committed once.

SQLite (one host, one writer at a time) takes the same road; its lease is simply not renewed
while a job runs, since the job's transaction holds SQLite's one write lock (`renew` would
wait on it), and `finish` still refuses a holder whose lease was taken over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, String, update
from sqlalchemy.orm import Mapped, mapped_column

from registry.core import dialects
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.core.transactions import unit_of_work

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A period job is checked at least this often, so a period whose holder died is taken over soon
# after its lease ends (JOB_LEASE_SECONDS).
PERIOD_CHECK_SECONDS = 60


def check_seconds(every_seconds: int) -> int:
    """How often a scheduler looks whether a job's period is still to run: a third of the period
    (so no period is missed for a late check), at most `PERIOD_CHECK_SECONDS`."""
    return max(1, min(every_seconds // 3, PERIOD_CHECK_SECONDS))


class JobRun(db.Model):
    """One periodic job's run for one period: who holds it, until when, and when it finished."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeaseLost(RuntimeError):
    """Another scheduler took the period over while this one ran it: its work is rolled back."""


def period_start(every_seconds: int, now: datetime | None = None) -> datetime:
    """The start of the UTC period of length `every_seconds` that `now` falls in."""
    now = now or utcnow()
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % every_seconds)


def claim(job: str, period: datetime, holder: str, lease_seconds: int,
          now: datetime | None = None) -> bool:
    """Take the lease of `job` for `period`: True if this holder may run it now.

    A fresh period is claimed by the one insert that lands; a period begun but unfinished whose
    lease ran out is taken over by the one update that matches. Flushes; the caller commits
    the claim before running the job, so the other schedulers see it.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=lease_seconds)
    table = JobRun.__table__
    inserted = db.session.execute(
        dialects.insert_ignore(table, dialects.flavour()).values(
            job=job, period_start=period, holder=holder, lease_until=until, started_at=now)
        .returning(table.c.job))
    if inserted.first() is not None:  # (RETURNING: rowcount is not told for an ON CONFLICT insert)
        return True
    taken = db.session.execute(
        update(table)
        .where(table.c.job == job, table.c.period_start == period, table.c.finished_at.is_(None),
               table.c.lease_until < now)
        .values(holder=holder, lease_until=until, started_at=now).returning(table.c.job))
    return taken.first() is not None


def renew(connection, job: str, period: datetime, holder: str, lease_seconds: int) -> bool:
    """Extend the lease while the job runs (on `connection`, outside the job's transaction)."""
    table = JobRun.__table__
    done = connection.execute(
        update(table)
        .where(table.c.job == job, table.c.period_start == period, table.c.holder == holder,
               table.c.finished_at.is_(None))
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds)).returning(table.c.job))
    return done.first() is not None


def finish(job: str, period: datetime, holder: str) -> None:
    """Mark the period done, in the job's own transaction; `LeaseLost` if another holds it."""
    table = JobRun.__table__
    done = db.session.execute(
        update(table)
        .where(table.c.job == job, table.c.period_start == period, table.c.holder == holder,
               table.c.finished_at.is_(None))
        .values(finished_at=utcnow()).returning(table.c.job))
    if done.first() is None:
        raise LeaseLost(f"{job}: the period {period.isoformat()} was taken over by another scheduler")


def forget_old(keep_days: int = 30) -> int:
    """Drop the rows of periods older than `keep_days` (the table would grow by a row a run)."""
    table = JobRun.__table__
    cutoff = utcnow() - timedelta(days=keep_days)
    done = db.session.execute(table.delete().where(table.c.period_start < cutoff))
    return done.rowcount


def run_once_per_period(name: str, every_seconds: int, holder: str, lease_seconds: int,
                        work: Callable[[], object], now: datetime | None = None) -> tuple[bool, object]:
    """Run `work` if this holder wins the period of `name`: `(True, its result)`, else
    `(False, None)` (another scheduler runs it or ran it, or a failed run's lease still holds).

    The claim is committed first (its own unit of work); `work` and the mark that the period is
    done then commit together, so a run that fails leaves the period open to be run again once
    its lease runs out. Call it in an app context.
    """
    period = period_start(every_seconds, now)
    with unit_of_work():
        claimed = claim(name, period, holder, lease_seconds, now)
    if not claimed:
        return False, None
    with _renewing(name, period, holder, lease_seconds):
        with unit_of_work():
            result = work()
            finish(name, period, holder)
    return True, result


@contextmanager
def _renewing(name: str, period: datetime, holder: str, lease_seconds: int) -> Iterator[None]:
    """On PostgreSQL, renew the lease every third of its length while the block runs, on a
    connection of its own, so a long run keeps its period and a killed one loses it soon."""
    if not dialects.is_postgresql():
        yield
        return
    engine, done = db.engine, threading.Event()

    def keep() -> None:
        while not done.wait(max(lease_seconds / 3, 0.2)):
            with engine.begin() as connection:
                if not renew(connection, name, period, holder, lease_seconds):
                    return

    thread = threading.Thread(target=keep, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
