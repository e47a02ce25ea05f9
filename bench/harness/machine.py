"""How much of the machine other work took while a measure ran (Linux `/proc`).

The benchmark shares two cores with whatever else runs. A `Meter` reads
the machine's busy CPU time over a window and subtracts what the
benchmark's own processes used: this process and every descendant (the
gunicorns, the load clients, the allocation workers, counting reaped
children through `cutime`/`cstime`) and the PostgreSQL backends serving
the bench database. What is left is other work, reported beside the
figures so a low one can be read for what it is.

It also splits the benchmark's own CPU time between the processes a
measure tracks (a server's process tree), the PostgreSQL backends and the
rest (this process and the load clients): where the time per request goes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Sample:
    busy: int  # jiffies, all CPUs
    total: int
    ours: int
    parts: dict[str, int]  # jiffies of each tracked tree, "postgres" and "rest" (all in `ours`)


def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, utime + stime + cutime + cstime) for every process."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    return stats


def _descendants(stats: dict[int, tuple[int, int]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Meter:
    """`start()`, run the measure, `stop()`; then `others` is other work's share of all CPUs."""

    def __init__(self, db_url: str | None = None):
        self.available = Path("/proc/stat").exists()
        self._engine = None
        self._db = None
        if db_url and self.available and make_url(db_url).get_backend_name() == "postgresql":
            self._engine = create_engine(db_url, isolation_level="AUTOCOMMIT", pool_size=1)
            self._db = make_url(db_url).database
        self._start: Sample | None = None
        self._backends: set[int] = set()
        self._tracked: dict[str, int] = {}
        self.others: float | None = None
        self.busy: float | None = None  # share of all CPUs busy in the window, ours or not
        self.cpu_seconds: dict[str, float] = {}  # per part, over the window

    def track(self, name: str, pid: int) -> None:
        """Account process `pid` and its descendants as `name` (before `start()`)."""
        self._tracked[name] = pid

    def _sample(self) -> Sample:
        if self._engine is not None:
            with self._engine.connect() as conn:
                self._backends |= set(conn.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": self._db}))
        with open("/proc/stat") as stat:
            fields = [int(f) for f in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]
        stats = _proc_stats()
        backends = self._backends & stats.keys()
        mine = _descendants(stats, os.getpid()) | backends
        parts = {name: sum(stats[pid][1] for pid in _descendants(stats, root) if pid in stats)
                 for name, root in self._tracked.items()}
        parts["postgres"] = sum(stats[pid][1] for pid in backends)
        ours = sum(stats[pid][1] for pid in mine)
        parts["rest"] = ours - sum(parts.values())
        return Sample(sum(fields) - idle, sum(fields), ours, parts)

    def start(self) -> None:
        if self.available:
            self._start = self._sample()

    def stop(self) -> float | None:
        if self._start is not None:
            end = self._sample()
            # Processes present at the start but gone by the end (a backend that
            # disconnected) count as other work: the measures keep theirs open.
            other = (end.busy - self._start.busy) - max(end.ours - self._start.ours, 0)
            total = max(end.total - self._start.total, 1)
            self.others = max(other, 0) / total
            self.busy = (end.busy - self._start.busy) / total
            self.cpu_seconds = {name: max(end.parts[name] - self._start.parts.get(name, 0), 0) / HZ
                                for name in end.parts}
        if self._engine is not None:
            self._engine.dispose()
        return self.others


def loop_ms(rounds: int = 3) -> float:
    """CPU milliseconds a fixed pure-Python loop takes (the fastest of `rounds`).

    Absolute targets (allocations per second, dispatch delay) move with the
    machine's speed, and on a shared virtual machine that speed moves with the
    host's load: the same code can need half as much CPU again. This figure,
    taken beside the measures, shows how fast the machine was at the time.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.process_time() - start)
    return best * 1000


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def busy_cell(busy: float | None, others: float | None) -> str:
    """How busy the machine was, and (in brackets) other work's part of it."""
    return f"{_share(busy)} ({_share(others)})"


def note_other_work(notes: list[str], measure: str, share: float | None) -> None:
    """The machine is shared: say so beside the figures if other work took a real part of it."""
    if share is not None and share > 0.10:
        notes.append(f"other work took {share:.0%} of the machine's CPU during {measure}; "
                     "its figures are lower than on a quiet machine")
