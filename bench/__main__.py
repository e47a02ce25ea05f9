"""`python -m bench [--bindings N] [--quick] [--keep] [--only M] [--db-name N]`: run the benchmark.

Prints the table (and writes it to --output).

Exits 0 when every measure was taken (missed targets show as FAIL in the
table), 1 when a measure could not be taken, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import traceback
from pathlib import Path

from bench import report, runner
from bench.settings import MEASURES, Settings
from bench.setup_db import database_url


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, help="active bindings to load (default 1,000,000)")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 bindings, shorter load and fewer allocations")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases afterwards")
    parser.add_argument("--duration", type=float, help="seconds of measured load per server (default 6)")
    parser.add_argument("--output", type=Path, help="where the table is written too "
                        "(default test-artifacts/bench.txt)")
    parser.add_argument("--only", choices=MEASURES, action="append",
                        help="run only this measure (repeatable; default: all of them)")
    parser.add_argument("--db-name", help="name of the benchmark database on the server (default "
                        "$BENCH_DB_NAME or registry_bench; the pool measure uses NAME_pool)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.quick:
        settings = settings.quick()
    changes = {"bindings": args.bindings, "duration": args.duration, "output": args.output,
               "db_name": args.db_name,
               "only": tuple(m for m in MEASURES if m in args.only) if args.only else None}
    settings = dataclasses.replace(settings, keep=args.keep,
                                   **{k: v for k, v in changes.items() if v is not None})
    if settings.bindings < 1:
        parser.error("--bindings must be at least 1")
    try:
        database_url(settings.admin_url, settings.db_name + "_pool")
    except ValueError:
        parser.error(f"--db-name {settings.db_name!r}: lower-case letters, digits and _ only")
    return settings


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    log = runner.stderr_log()
    # A TERM (e.g. from a CI timeout) unwinds like Ctrl-C: servers stopped, databases dropped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        header, rows = runner.run(settings, log)
    except KeyboardInterrupt:
        log("interrupted; servers stopped" + ("" if settings.keep else ", databases dropped"))
        return 130
    except Exception:
        traceback.print_exc()
        log("the benchmark could not complete")
        return 1
    table = report.render(rows, header)
    report.write(table, settings.output)
    print(table, end="")
    log(f"table written to {settings.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
