"""The scheduler's heartbeat: written after each dispatch pass, read by /readyz and /metrics.

A scheduler is taken to be stale when its last pass is older than `STALE_AFTER` (a pass starts
every 2 seconds). Web readiness only reports it: a load balancer taking the web instances out
because the scheduler stalled would turn a delay into an outage. Rows of processes silent for a
day are removed, so restarted processes (a new pid each) leave no trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from registry.core.dialects import flavour, insert
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.ops.models import SchedulerHeartbeat

STALE_AFTER = timedelta(seconds=60)
FORGET_AFTER = timedelta(days=1)


def beat(worker: str, started_at: datetime, now: datetime | None = None) -> None:
    """Record that `worker` finished a dispatch pass `now` (flushed; the job commits)."""
    now = now or utcnow()
    table = SchedulerHeartbeat.__table__
    statement = insert(table, flavour(db.session)).values(
        worker=worker, started_at=started_at, last_dispatch_at=now)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.worker], set_={"last_dispatch_at": now, "started_at": started_at}))
    silent = SchedulerHeartbeat.last_dispatch_at < now - FORGET_AFTER
    db.session.execute(delete(SchedulerHeartbeat).where(silent))


def ages(now: datetime | None = None) -> dict[str, float]:
    """Seconds since each scheduler's last dispatch pass, by worker."""
    now = now or utcnow()
    rows = db.session.execute(select(SchedulerHeartbeat.worker, SchedulerHeartbeat.last_dispatch_at)).all()
    return {worker: round((now - as_utc(at)).total_seconds(), 3) for worker, at in rows}


def report(now: datetime | None = None) -> dict:
    """What /readyz says of the schedulers: each one's age, the newest, and whether it is stale."""
    by_worker = ages(now)
    newest = min(by_worker.values(), default=None)
    return {"ok": True, "workers": by_worker, "newest_age_seconds": newest,
            "stale": newest is None or newest > STALE_AFTER.total_seconds()}
