"""`flask calllog ...`: prove the call log was not altered, and its evidence jobs by hand."""

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.transactions import unit_of_work

calllog_cli = AppGroup("calllog", help="The tamper-evident call log.")


@calllog_cli.command("verify")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes walking the chain in parallel (PostgreSQL; default CALLLOG_VERIFY_WORKERS).")
@click.option("--checkpoints", "export", type=click.File("r", encoding="utf-8"), default=None,
              help="An earlier `calllog checkpoint export`, kept outside: check the chain against it too.")
def verify_command(workers: int | None, export) -> None:
    """Walk the hash chain; exit 1 naming the first broken link. The outcome is kept
    as the latest verification result (the staff console shows it)."""
    from registry.calllog.checkpoints import read_export
    from registry.calllog.verification import run_verification

    try:
        kept = read_export(export) if export is not None else []
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--checkpoints") from None
    if export is not None and not kept:
        raise click.BadParameter("the file holds no checkpoint (export after the hourly job, or "
                                 "`calllog checkpoint write`, has signed one)", param_hint="--checkpoints")
    with unit_of_work():
        result = run_verification(workers=workers, kept=kept)
    if result.ok:
        rate = result.events / result.seconds if result.seconds > 0 else 0
        agreed = ""
        if kept:
            agreed = "; the exported checkpoint agrees" if len(kept) == 1 else \
                f"; the {len(kept)} exported checkpoints agree"
        click.echo(f"call log intact: {result.events} events verified in {result.seconds:.2f} s "
                   f"({rate:,.0f}/s){agreed}")
        return
    # A broken link stops the walk there; a checkpoint that fails is found after the whole walk.
    walked = (f"{result.events} events verified before it" if result.events < result.broken_at
              else f"the chain holds {result.events} events")
    click.echo(f"call log BROKEN at event {result.broken_at}: {result.reason} ({walked})", err=True)
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


checkpoint_cli = AppGroup("checkpoint", help="Signed checkpoints of the hash chain (docs/operations.md).")
calllog_cli.add_command(checkpoint_cli)


@checkpoint_cli.command("public-key")
def public_key_command() -> None:
    """Print the public key(s) checkpoints are verified with (PEM), the signing one first."""
    from registry.calllog.checkpoints import signing_keys
    from registry.core.signing_keys import key_id, public_pem

    keys = signing_keys()
    if not keys:
        click.echo("no checkpoint key: CHECKPOINT_SIGNING_KEY is not set", err=True)
        raise SystemExit(1)
    for key in keys:
        click.echo(f"# key id {key_id(key.public_key())}")
        click.echo(public_pem(key.public_key()), nl=False)


@checkpoint_cli.command("export")
def export_command() -> None:
    """Print every checkpoint as a JSON line: id, created_at, events, head_hash, key_id, signature."""
    import json

    from registry.calllog.checkpoints import export_lines

    for line in export_lines():
        click.echo(json.dumps(line, sort_keys=True))


@checkpoint_cli.command("write")
def write_command() -> None:
    """Sign a checkpoint of the sealed chain now (what the hourly job does)."""
    from registry.calllog.chain import seal_pending
    from registry.calllog.checkpoints import write_checkpoint

    with unit_of_work():
        seal_pending()
        click.echo(write_checkpoint(current_app._get_current_object()))
