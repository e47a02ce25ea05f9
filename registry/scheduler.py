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
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.core.extensions import db
from registry.core.periodic import check_seconds, run_once_per_period
from registry.core.periodic import forget_old as _forget_job_runs
from registry.core.transactions import unit_of_work

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


def _lapse_verifications(app: Flask) -> int:
    from registry.merchants.operations import lapse_expired_verifications

    return lapse_expired_verifications()


# Set on SIGTERM: the dispatch pass in progress stops claiming new work and
# finishes the call it is placing; unplaced claims come back when their lease ends.
STOPPING = threading.Event()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def _dispatch_callbacks(app: Flask) -> dict:
    from registry.callbacks.dispatch import dispatch_once
    from registry.callbacks.settings import Urls, settings_from_config
    from registry.telephony import get_gateway

    settings = settings_from_config(app.config, WORKER_NAME)
    return dispatch_once(get_gateway(), settings, Urls(app.config["PUBLIC_BASE_URL"]),
                         stop=STOPPING.is_set)


def _end_expired_bindings(app: Flask) -> int:
    from registry.masking.allocation import end_expired

    return end_expired()


def _copy_recordings(app: Flask) -> dict:
    from registry.calllog.recordings import copy_recordings

    return copy_recordings(app)


def _apply_retention(app: Flask):
    from registry.calllog.retention import retention_job

    return retention_job(app)


def _settle_silent_calls(app: Flask) -> dict:
    from registry.callbacks.outcomes import RetryRules
    from registry.callbacks.watchdog import settle_silent_calls
    from registry.telephony import get_gateway

    return settle_silent_calls(get_gateway(), RetryRules.from_config(app.config))


def _seal_call_log(app: Flask) -> int:
    from registry.calllog.chain import seal_pending

    return seal_pending()


def _verify_call_log(app: Flask) -> str:
    from registry.calllog.verification import verify_call_log

    return verify_call_log(app)


def _forget_idempotency_keys(app: Flask) -> int:
    from registry.integrations.idempotency_keys import forget_expired

    return forget_expired(app.config["IDEMPOTENCY_KEY_TTL_HOURS"])


def _forget_stale_login_failures(app: Flask) -> int:
    from registry.accounts.lockout import forget_stale

    return forget_stale()


def _forget_integration_calls(app: Flask) -> int:
    from registry.integrations.operations import forget_old_calls

    return forget_old_calls(app.config["INTEGRATION_CALLS_RETENTION_DAYS"])


def _check_pool(app: Flask) -> dict:
    from registry.masking.capacity import check_pool
    from registry.telephony import get_gateway

    return check_pool(get_gateway(), app.config)


def _deliver_webhooks(app: Flask) -> dict:
    from registry.webhooks.delivery import DeliverySettings, deliver_due

    return deliver_due(DeliverySettings.from_config(app.config, WORKER_NAME), stop=STOPPING.is_set)


DAY = 24 * 3600
# Every job runs once per period across all schedulers, but the three that every scheduler runs
# side by side: they share their work out by row leases (callbacks, deliveries) or a lock on the
# chain's head (sealing), so more schedulers means more throughput, never work done twice.
JOBS: tuple[Job, ...] = (
    Job("dispatch-callbacks", 2, _dispatch_callbacks, outlasts_interval=True, once_per_period=False),
    Job("lapse-verifications", 3600, _lapse_verifications),
    Job("end-expired-bindings", 60, _end_expired_bindings),
    Job("settle-silent-calls", 60, _settle_silent_calls),
    Job("seal-call-log", 1, _seal_call_log, once_per_period=False),
    Job("deliver-webhooks", 1, _deliver_webhooks, outlasts_interval=True, once_per_period=False),
    Job("copy-recordings", 60, _copy_recordings),
    Job("retention", DAY, _apply_retention),
    Job("verify-call-log", DAY, _verify_call_log),
    Job("forget-idempotency-keys", 3600, _forget_idempotency_keys),
    Job("forget-integration-calls", DAY, _forget_integration_calls),
    Job("forget-stale-login-failures", 3600, _forget_stale_login_failures),
    Job("check-pool", 600, _check_pool),
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
