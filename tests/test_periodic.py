"""Once per period across schedulers (registry/core/periodic.py, the `job_runs` leases)."""

import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from registry.core.periodic import JobRun, LeaseLost, claim, finish, period_start, run_once_per_period
from registry.core.timeutil import utcnow
from registry.core.transactions import unit_of_work
from registry.scheduler import JOBS, SKIPPED, run_scheduled
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_merchant, make_number

ROOT = Path(__file__).resolve().parents[1]
HOUR = 3600


def test_periods_are_utc_intervals_every_host_computes_alike():
    now = utcnow().replace(hour=13, minute=47, second=5, microsecond=12)
    assert period_start(HOUR, now) == now.replace(minute=0, second=0, microsecond=0)
    assert period_start(24 * HOUR, now) == now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert period_start(600, now) == now.replace(minute=40, second=0, microsecond=0)


def test_a_period_runs_once_whoever_asks(app, db):
    now = utcnow()
    runs = []
    with app.app_context():
        assert run_once_per_period("job", HOUR, "a", 60, lambda: runs.append("a") or 1, now) == (True, 1)
        assert run_once_per_period("job", HOUR, "b", 60, lambda: runs.append("b"), now) == (False, None)
        assert run_once_per_period("job", HOUR, "a", 60, lambda: runs.append("a"), now) == (False, None)
        later = now + timedelta(hours=1)
        assert run_once_per_period("job", HOUR, "b", 60, lambda: runs.append("b") or 2, later) == (True, 2)
    assert runs == ["a", "b"]
    rows = db.session.query(JobRun).order_by(JobRun.period_start).all()
    assert [(r.holder, r.finished_at is not None) for r in rows] == [("a", True), ("b", True)]


def test_a_killed_holders_period_is_taken_over_when_its_lease_ends(app, db):
    now = utcnow().replace(minute=5)
    period = period_start(HOUR, now)
    with app.app_context():
        with unit_of_work():
            assert claim("job", period, "killed", 60, now)  # claimed, then the process died
        ran = []
        assert run_once_per_period("job", HOUR, "b", 60, lambda: ran.append(1), now) == (False, None)
        soon = now + timedelta(seconds=61)
        assert run_once_per_period("job", HOUR, "b", 60, lambda: ran.append(1) or 7, soon) == (True, 7)
        assert ran == [1]
        # Had the first holder only been slow: it cannot mark the period done, its work is undone.
        with pytest.raises(LeaseLost), unit_of_work():
            finish("job", period, "killed")


def test_a_failed_run_is_rolled_back_and_run_again_after_its_lease(app, db):
    now = utcnow().replace(minute=5)
    store = make_merchant()
    db.session.commit()

    def failing():
        store.name = "changed"
        db.session.flush()
        raise RuntimeError("boom")

    with app.app_context():
        with pytest.raises(RuntimeError):
            run_once_per_period("job", HOUR, "a", 60, failing, now)
        assert run_once_per_period("job", HOUR, "b", 60, lambda: 1, now) == (False, None)
        assert run_once_per_period("job", HOUR, "b", 60, lambda: 1, now + timedelta(seconds=61)) == (True, 1)
    db.session.expire_all()
    assert store.name != "changed"


def test_tick_runs_a_period_job_once_per_period_unless_forced(app, runner, db):
    store = make_merchant()
    due = make_number(store, "+8613800138000", status="verified")
    due.reverify_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    first = runner.invoke(args=["scheduler", "tick"])
    assert "lapse-verifications: 1" in first.output
    second = runner.invoke(args=["scheduler", "tick"])
    assert second.exit_code == 0, second.output
    assert f"lapse-verifications: {SKIPPED}" in second.output
    assert "retention: " + SKIPPED in second.output
    forced = runner.invoke(args=["scheduler", "tick", "--force"])
    assert "lapse-verifications: 0" in forced.output


def test_only_the_lease_sharing_jobs_run_in_every_scheduler():
    assert {job.name for job in JOBS if not job.once_per_period} == {
        "dispatch-callbacks", "deliver-webhooks", "seal-call-log"}
    checks = {job.name: job.check_seconds for job in JOBS}
    assert checks["retention"] == 60 and checks["end-expired-bindings"] == 20
    assert checks["dispatch-callbacks"] == 2


def test_scheduled_run_of_a_period_job_skips_when_another_holds_it(app, db):
    job = next(j for j in JOBS if j.name == "lapse-verifications")
    assert run_scheduled(app, job, holder="a") == 0
    assert run_scheduled(app, job, holder="b") == SKIPPED


def test_three_schedulers_run_each_job_once_per_period(app, db, database_url, simulator, tmp_path):
    if database_url != TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only: three processes truly race there")
    postgres_url = database_url
    outfile, seconds = tmp_path / "runs.txt", 9
    outputs = []

    def scheduler(holder):
        outputs.append(subprocess.run(
            [sys.executable, "-m", "tests.periodic_runner", postgres_url, simulator.url, str(outfile),
             str(seconds), holder], cwd=ROOT, capture_output=True, text=True, timeout=60))

    threads = [threading.Thread(target=scheduler, args=(f"host-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o.returncode for o in outputs] == [0, 0, 0], [o.stderr[-1500:] for o in outputs]
    runs = [line.split() for line in outfile.read_text().splitlines()]
    per_period = Counter((job, period) for job, period, _ in runs)
    assert per_period and max(per_period.values()) == 1, sorted(per_period.items())
    for job, every in (("every-2s", 2), ("every-3s", 3)):
        periods = sorted(period for name, period in per_period if name == job)
        # Every period while they ran (the first and last may be cut by start-up and stop).
        assert len(periods) >= seconds // every - 2, (job, periods)
    db.session.expire_all()
    assert db.session.query(JobRun).filter(JobRun.finished_at.is_(None)).count() == 0
