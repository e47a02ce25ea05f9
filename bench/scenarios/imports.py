"""`python -m bench imports [--rows N] [--quick] [--backend sqlite|postgresql]`: the merchant import.

A CSV of 10,000 stores (each with an owner to invite, half with a contact number) goes
through the endpoint, `POST /api/v1/merchants/import`, called in this process through Flask's
test client (the whole view: auth, CSV parsing, one savepoint per row, the answer's JSON; no
HTTP server or network), on SQLite and on PostgreSQL, each on a fresh database:

- dry run: every row checked and rolled back (nothing stays);
- apply: every row created (stores, owners, numbers);
- again: the same file, every row `unchanged`;
- baseline: the same work one row a request (`--single` requests of a one-row file), the
  cost of a row when it is not part of a bulk import.

The table goes to stdout and to test-artifacts/bench-imports.txt.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.harness import ROOT, cli, database
from bench.harness.app import admin_url, make_app
from bench.harness.machine import Meter, busy_cell, loop_ms, note_other_work
from bench.harness.tables import Row, number, publish
from bench.harness.timing import stderr_log

HEADER = "external_id,name,timezone,business_hours,owner_email,number,label\n"
log = stderr_log("imports")


@dataclass(frozen=True)
class Settings:
    rows: int = 10_000
    single: int = 200
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    admin_url: str = admin_url()
    db_name: str = "registry_bench_imports"
    keep: bool = False
    output: Path | None = ROOT / "test-artifacts" / "bench-imports.txt"

    def quick(self) -> Settings:
        return replace(self, rows=1_000, single=50)


def csv_text(rows: int, prefix: str = "s") -> str:
    """`rows` stores: new owners, hours as text, every other one with a mobile number."""
    lines = [HEADER]
    for i in range(rows):
        number = f"+86 138{i:08d}" if i % 2 == 0 else ""
        lines.append(f"{prefix}{i},Store {i},Asia/Shanghai,mon-fri 09:00-18:00; sat 10:00-14:00,"
                     f"owner-{prefix}{i}@example.com,{number},{'Desk' if number else ''}\n")
    return "".join(lines)


def _post(client, key: str, text: str, dry_run: bool = False) -> dict:
    response = client.post("/api/v1/merchants/import", data=text.encode(),
                           query_string={"dry_run": "true"} if dry_run else {},
                           headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"})
    if response.status_code != 200:
        answer = response.get_data(as_text=True)[:300]
        raise RuntimeError(f"the import answered {response.status_code}: {answer}")
    return response.get_json()["summary"]


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _url(s: Settings, backend: str, folder: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder}/{s.db_name}.sqlite3"
    return database.create_database(s.admin_url, s.db_name)


def measure(s: Settings, backend: str, folder: str) -> tuple[list[Row], list[str]]:
    url = _url(s, backend, folder)
    try:
        return _measure(s, backend, url)
    finally:
        if backend == "postgresql" and not s.keep:
            database.drop_database(s.admin_url, s.db_name)


def _measure(s: Settings, backend: str, url: str) -> tuple[list[Row], list[str]]:
    from registry.core.extensions import db
    from registry.integrations.operations import create_client

    app = make_app(url)
    with app.app_context():
        db.create_all()
        _client, key = create_client("Bench marketplace", ["merchants"])
        db.session.commit()
    client = app.test_client()
    text = csv_text(s.rows)
    rows, notes = [], []

    def timed_run(label: str, expect: str, dry_run: bool = False) -> float:
        meter = Meter(url)
        meter.start()
        seconds, summary = _timed(lambda: _post(client, key, text, dry_run))
        meter.stop()
        rate = s.rows / seconds
        done = summary[expect] == s.rows and summary["errors"] == 0
        log(f"{backend}: {label}: {seconds:.1f} s, {rate:,.0f} rows/s ({summary[expect]:,} {expect})")
        busy = busy_cell(meter.busy, meter.others)
        rows.append(Row(f"{backend}: {label} ({seconds:.1f} s; machine busy {busy})",
                        f"{number(rate)} rows/s", f"all {s.rows:,} {expect}", done))
        note_other_work(notes, f"the {backend} {label}", meter.others)
        return rate

    timed_run("dry run", "created", dry_run=True)
    apply_rate = timed_run("apply, new stores", "created")
    timed_run("again, the same file", "unchanged")
    singles = [csv_text(1, prefix=f"one{i}-") for i in range(s.single)]
    seconds, _ = _timed(lambda: [_post(client, key, one) for one in singles])
    single_rate = s.single / seconds
    log(f"{backend}: one row a request: {single_rate:,.0f} rows/s")
    rows.append(Row(f"{backend}: baseline, one row a request ({s.single} requests)",
                    f"{number(single_rate)} rows/s"))
    rows.append(Row(f"{backend}: apply / one row a request", f"{apply_rate / single_rate:.1f}x"))
    return rows, notes


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int,
                        help="rows in the file (default 10,000, the most an import takes)")
    parser.add_argument("--single", type=int, help="one-row requests for the baseline (default 200)")
    parser.add_argument("--quick", action="store_true", help="1,000 rows, 50 one-row requests")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"),
                        help="measure only this database (repeatable; default both)")
    parser.add_argument("--output", type=Path, help="where the table is written too")
    cli.database_arguments(parser, Settings.db_name)
    args = parser.parse_args(argv)
    s = Settings().quick() if args.quick else Settings()
    s = cli.replace_given(s, rows=args.rows, single=args.single, keep=args.keep, admin_url=args.admin_url,
                          db_name=args.db_name, output=args.output,
                          backends=tuple(args.backend) if args.backend else None)
    if not 1 <= s.rows <= 10_000 or s.single < 1:
        parser.error("--rows is 1 to 10,000 (an import's limit); --single at least 1")
    cli.check_database_name(parser, s.admin_url, s.db_name)
    return s


def run(argv: list[str] | None = None) -> list[Row]:
    s = parse_args(argv)
    cli.stop_on_term()
    speed = loop_ms()
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as folder:
        for backend in s.backends:
            measured, noted = measure(s, backend, folder)
            rows += measured
            notes += noted
    header = [f"merchant import through POST /api/v1/merchants/import (in-process test client): "
              f"{s.rows:,} rows; {os.cpu_count()} CPUs, a fixed Python loop took {speed:.0f} ms "
              f"(the machine's speed now), load average {os.getloadavg()[0]:.1f} at the end",
              *notes]
    publish(rows, header, s.output)
    return rows


def main(argv: list[str] | None = None) -> int:
    run(argv)
    return 0
