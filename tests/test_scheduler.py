"""The scheduler's jobs: `scheduler tick` runs each once; the lapse job."""

from datetime import timedelta

from registry.core.timeutil import utcnow
from registry.merchants.models import MerchantNumber
from registry.scheduler import JOBS, build_scheduler
from tests.factories import make_merchant, make_number


def test_tick_lapses_numbers_past_their_reverification_date(runner, db):
    store = make_merchant()
    due = make_number(store, "+8613800138000", status="verified")
    fresh = make_number(store, "+8613900139000", status="verified")
    due.reverify_at = utcnow() - timedelta(minutes=1)
    fresh.reverify_at = utcnow() + timedelta(days=10)
    db.session.commit()

    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    assert "lapse-verifications: 1" in result.output
    db.session.expire_all()
    assert db.session.get(MerchantNumber, due.id).status == "lapsed"
    assert "verify again" in db.session.get(MerchantNumber, due.id).status_reason
    assert db.session.get(MerchantNumber, fresh.id).status == "verified"


def test_public_profile_loses_the_badge_when_verification_lapses(client, runner, db):
    store = make_merchant()
    number = make_number(store, status="verified")
    number.reverify_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/api/v1/merchants/{store.id}").json["verified"] is True
    runner.invoke(args=["scheduler", "tick"])
    assert client.get(f"/api/v1/merchants/{store.id}").json["verified"] is False


def test_scheduler_registers_every_job_in_memory(app):
    scheduler = build_scheduler(app)
    jobs = {job.id for job in scheduler.get_jobs()}
    assert jobs == {job.name for job in JOBS}
    assert list(scheduler._jobstores) == ["default"]
    assert type(scheduler._jobstores["default"]).__name__ == "MemoryJobStore"


def test_scheduler_run_stops_cleanly_on_sigterm(app, database_url, simulator):
    """`scheduler run` is a long-running process; SIGTERM ends it after the running pass."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_API_URL": simulator.url,
           "SECRET_KEY": "s" * 40, "DATA_KEY": "d" * 40, "REGISTRY_ENV": "development"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                            cwd=Path(__file__).resolve().parents[1], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        line = ""
        while "scheduler: running" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "dispatch-callbacks" in line
        time.sleep(1)  # let a pass or two run
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "stopping after the running jobs finish" in output
    assert "Traceback" not in output


def test_a_dispatch_run_skipped_while_a_pass_works_a_backlog_off_is_not_warned_about(app, caplog):
    """A dispatch pass goes on while work is due, so APScheduler skips the job's runs meanwhile;
    that is the plan, not news. Another job's skipped run is still a warning."""
    import logging

    scheduler = build_scheduler(app)
    message = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'
    apscheduler_log = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        for name in ("dispatch-callbacks", "copy-recordings"):
            apscheduler_log.warning(message, scheduler.get_job(name), 1)
    warned = [record.getMessage() for record in caplog.records]
    assert len(warned) == 1 and "copy-recordings" in warned[0]
