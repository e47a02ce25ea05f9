"""`flask calllog ...`: prove the call log was not altered, and its evidence jobs by hand."""

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.transactions import unit_of_work

calllog_cli = AppGroup("calllog", help="The tamper-evident call log.")


@calllog_cli.command("verify")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes walking the chain in parallel (PostgreSQL; default CALLLOG_VERIFY_WORKERS).")
def verify_command(workers: int | None) -> None:
    """Walk the hash chain; exit 1 naming the first broken link. The outcome is kept
    as the latest verification result (the staff console shows it)."""
    from registry.calllog.verification import run_verification

    with unit_of_work():
        result = run_verification(workers=workers)
    if result.ok:
        rate = result.events / result.seconds if result.seconds > 0 else 0
        click.echo(f"call log intact: {result.events} events verified in {result.seconds:.2f} s "
                   f"({rate:,.0f}/s)")
        return
    click.echo(f"call log BROKEN at event {result.broken_at}: {result.reason} "
               f"({result.events} events verified before it)", err=True)
    raise SystemExit(1)


@calllog_cli.command("retention")
def retention_command() -> None:
    """Apply the retention periods now (what the daily job does)."""
    from registry.calllog.retention import retention_job

    with unit_of_work():
        result = retention_job(current_app)
    click.echo(f"recordings deleted: {result.recordings_deleted}, call records erased: "
               f"{result.records_erased}, events redacted: {result.events_redacted}")


@calllog_cli.command("copy-recordings")
def copy_recordings_command() -> None:
    """Copy the recordings that are due into local storage (what the minutely job does)."""
    from registry.calllog.recordings import copy_recordings

    with unit_of_work():
        counts = copy_recordings(current_app)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()) or "nothing to copy")
