"""The result table every benchmark prints: measure | value | target | result."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    target: str = ""
    passed: bool | None = None  # None: shown for information, no target

    @property
    def result(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


def number(value: float, digits: int = 0) -> str:
    if value != value:  # NaN: nothing was measured
        return "n/a"
    return f"{value:,.{digits}f}"


def render(rows: list[Row], header: list[str] | None = None) -> str:
    titles = ("measure", "value", "target", "result")
    cells = [titles] + [(r.measure, r.value, r.target, r.result) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]

    def line(row) -> str:
        return (f"{row[0]:<{widths[0]}} | {row[1]:>{widths[1]}} | {row[2]:<{widths[2]}} | "
                f"{row[3]}").rstrip()

    rule = "-+-".join("-" * w for w in widths)
    out = list(header or []) + [line(titles), rule] + [line(c) for c in cells[1:]]
    failed = sum(1 for r in rows if r.passed is False)
    checked = sum(1 for r in rows if r.passed is not None)
    out.append(rule)
    out.append(f"{checked - failed} of {checked} targets met" + (f"; {failed} FAIL" if failed else ""))
    return "\n".join(out) + "\n"


def write(table: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table)


def publish(rows: list[Row], header: list[str], output: Path | None = None) -> str:
    """Print the table (and write it to `output`); returns it."""
    table = render(rows, header)
    if output is not None:
        write(table, output)
    print(table, end="", flush=True)
    return table


def git_revision() -> str:
    """The commit measured, and whether the tree had changes on top of it."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S607
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,  # noqa: S607
                               text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (uncommitted changes)" if dirty else "")
