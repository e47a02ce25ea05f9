"""Command-line pieces every benchmark shares: its database arguments and how they apply."""

from __future__ import annotations

import argparse
import dataclasses
import signal

from bench.harness.database import database_url


def database_arguments(parser: argparse.ArgumentParser, default_name: str) -> None:
    """--keep, --db-name and --admin-url."""
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--db-name", help=f"the database created (default {default_name}); "
                        "give each concurrent run its own")
    parser.add_argument("--admin-url", help="a database URL on the server to create databases with "
                        "(default $BENCH_DATABASE_URL or the local postgres database)")


def check_database_name(parser: argparse.ArgumentParser, admin_url: str, *names: str) -> None:
    for name in names:
        try:
            database_url(admin_url, name)
        except ValueError:
            parser.error(f"--db-name {name!r}: lower-case letters, digits and _ only")


def replace_given(settings, **changes):
    """`settings` with the changes that were given (not None)."""
    return dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_term() -> None:
    """A TERM (e.g. from a CI timeout) unwinds like Ctrl-C: servers stopped, databases dropped."""
    signal.signal(signal.SIGTERM, _interrupt)
