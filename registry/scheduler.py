"""The scheduler process: APScheduler runs the product's periodic jobs.

It runs in its own process (`flask --app wsgi scheduler run`), never in web
workers. Jobs keep no state of their own: each one reads what is due from
the database, calls an operation, and commits once (`run_job`; the few
jobs that commit part-way say why, through `core.transactions.commit_now`).
The job store is APScheduler's in-memory one, so nothing is pickled; a
restarted scheduler simply finds the same due work in the database again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry import jobs
from registry.core.extensions import db
from registry.core.periodic import check_seconds, run_once_per_period
from registry.core.periodic import forget_old as _forget_job_runs
from registry.core.transactions import unit_of_work
from registry.jobs import STOPPING, WORKER_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[Flask], object]
    # A run may go on past the next one (a dispatch pass lasts while work is due): the runs
    # APScheduler skips meanwhile are the plan, not news, and are not warned about.
    outlasts_interval: bool = False
    # Run by one scheduler per period, however many run (`core.periodic`, docs/operations.md):
    # every scheduler checks the job often, and the one that claims the period runs it.
    once_per_period: bool = True

    @property
    def check_seconds(self) -> int:
        """How often a scheduler looks whether the job's period is still to run."""
        return check_seconds(self.every_seconds) if self.once_per_period else self.every_seconds


DAY = 24 * 3600
# Every job runs once per period across all schedulers, but the three that every scheduler runs
# side by side: they share their work out by row leases (callbacks, deliveries) or a lock on the
# chain's head (sealing), so more schedulers means more throughput, never work done twice.
JOBS: tuple[Job, ...] = (
    Job("dispatch-callbacks", 2, jobs.run_dispatch_callbacks, outlasts_interval=True, once_per_period=False),
    Job("lapse-verifications", 3600, jobs.run_lapse_verifications),
    Job("end-expired-bindings", 60, jobs.run_end_expired_bindings),
    Job("settle-silent-calls", 60, jobs.run_settle_silent_calls),
    Job("seal-call-log", 1, jobs.run_seal_call_log, once_per_period=False),
    Job("deliver-webhooks", 1, jobs.run_deliver_webhooks, outlasts_interval=True, once_per_period=False),
    Job("copy-recordings", 60, jobs.run_copy_recordings),
    Job("retention", DAY, jobs.run_apply_retention),
    Job("checkpoint-call-log", 3600, jobs.run_checkpoint_call_log),
    Job("verify-call-log", DAY, jobs.run_verify_call_log),
    Job("forget-idempotency-keys", 3600, jobs.run_forget_idempotency_keys),
    Job("forget-integration-calls", DAY, jobs.run_forget_integration_calls),
    Job("forget-stale-login-failures", 3600, jobs.run_forget_stale_login_failures),
    Job("check-pool", 600, jobs.run_check_pool),
    Job("forget-job-runs", DAY, lambda app: _forget_job_runs()),
)


def run_job(app: Flask, job: Job):
    """Run one job in an app context as one unit of work (committed when it ends, rolled back
    if it fails); errors are logged."""
    with app.app_context():
        try:
            with unit_of_work():
                result = job.run(app)
            if result:
                log.info("job %s: %s", job.name, result)
            return result
        except Exception:
            log.exception("job %s failed", job.name)
            raise
        finally:
            db.session.remove()


SKIPPED = "skipped (this period's run is another scheduler's, or done)"


def run_scheduled(app: Flask, job: Job, holder: str = WORKER_NAME, force: bool = False):
    """Run `job` as a scheduler does: a once-per-period job only if this `holder` claims its
    period (else `SKIPPED`); the others (and any job with `force`) right away."""
    if force or not job.once_per_period:
        return run_job(app, job)
    with app.app_context():
        try:
            ran, result = run_once_per_period(job.name, job.every_seconds, holder,
                                              app.config["JOB_LEASE_SECONDS"], lambda: job.run(app))
            if ran and result:
                log.info("job %s: %s", job.name, result)
            return result if ran else SKIPPED
        except Exception:
            log.exception("job %s failed", job.name)
            raise
        finally:
            db.session.remove()


def tick(app: Flask, force: bool = False) -> dict[str, object]:
    """One pass of every job, as `scheduler tick` runs it (`force`: whatever the periods)."""
    return {job.name: run_scheduled(app, job, force=force) for job in JOBS}


def build_scheduler(app: Flask, jobs: tuple[Job, ...] = JOBS, holder: str = WORKER_NAME):
    """A blocking APScheduler with every job on its interval (a once-per-period job: checked
    every `check_seconds`), first run now."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        jobstores={"default": MemoryJobStore()},
        # A thread per job (each runs one instance at a time): a long daily job, such as
        # walking the call log's chain, never delays the two-second dispatch.
        executors={"default": ThreadPoolExecutor(max_workers=len(jobs))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone="UTC",
    )
    logging.getLogger("apscheduler.scheduler").addFilter(_quiet_skipped_runs)
    for job in jobs:
        scheduler.add_job(
            _safe_run, "interval", seconds=job.check_seconds, args=(app, job, holder), id=job.name,
            name=job.name, next_run_time=_now(),
        )
    return scheduler


def _quiet_skipped_runs(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warning that a run was skipped while the last one still ran, for the
    jobs whose runs may outlast their interval."""
    args = record.args if isinstance(record.args, tuple) else ()
    message = str(record.msg)
    return not (message.startswith("Execution of job") and "maximum number of running" in message
                and args and getattr(args[0], "id", None) in _OUTLASTING)


_OUTLASTING = frozenset(job.name for job in JOBS if job.outlasts_interval)


def _now():
    from registry.core.timeutil import utcnow

    return utcnow()


def _safe_run(app: Flask, job: Job, holder: str) -> None:
    try:
        run_scheduled(app, job, holder)
    except Exception:  # noqa: S110 - already logged; the next interval tries again
        pass


scheduler_cli = AppGroup("scheduler", help="Run the periodic jobs.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C (the current jobs finish first)."""
    app = current_app._get_current_object()
    # APScheduler logs every run at INFO; with a 2-second dispatch that drowns the real news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = build_scheduler(app)
    _serve_metrics(app.config)

    def stop(signum, frame):
        click.echo("scheduler: stopping after the running jobs finish")
        STOPPING.set()
        # Not from the handler itself: it may have interrupted the scheduler's own loop in the
        # middle of updating its job store, which shutting down empties. A thread waits for
        # the loop to let go of the store, then stops the scheduler and its running jobs.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="scheduler-stop").start()

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"scheduler: running {', '.join(j.name for j in JOBS)}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)


def _serve_metrics(config) -> None:
    """This process's metrics (dispatch lag, Twilio requests, webhook deliveries…) on
    `SCHEDULER_METRICS_PORT` (0: off), in a thread of prometheus-client's."""
    port = config.get("SCHEDULER_METRICS_PORT", 0)
    if port:
        from prometheus_client import start_http_server

        start_http_server(port)
        click.echo(f"scheduler: metrics on port {port}")


@scheduler_cli.command("tick")
@click.option("--force", is_flag=True,
              help="Run the once-per-period jobs even if their period has run already.")
def tick_command(force: bool) -> None:
    """Run every job once, then exit (non-zero if one failed); a once-per-period job only if
    its period is still to run, unless --force."""
    app = current_app._get_current_object()
    failed = False
    for job in JOBS:
        try:
            result = run_scheduled(app, job, force=force)
            click.echo(f"{job.name}: {result}")
        except Exception as exc:
            failed = True
            click.echo(f"{job.name}: failed: {type(exc).__name__}", err=True)
    if failed:
        raise SystemExit(1)
