"""`flask calllog verify`: prove the call log was not altered."""

import time

import click
from flask.cli import AppGroup

from registry.calllog.chain import verify

calllog_cli = AppGroup("calllog", help="The tamper-evident call log.")


@calllog_cli.command("verify")
def verify_command() -> None:
    """Walk the hash chain; exit 1 naming the first broken link."""
    started = time.perf_counter()
    report = verify()
    elapsed = time.perf_counter() - started
    if report.ok:
        rate = report.events / elapsed if elapsed > 0 else 0
        click.echo(f"call log intact: {report.events} events verified in {elapsed:.2f} s ({rate:,.0f}/s)")
        return
    click.echo(f"call log BROKEN at event {report.broken_at}: {report.reason} "
               f"({report.events} events verified before it)", err=True)
    raise SystemExit(1)
