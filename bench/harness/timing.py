"""Timing: nearest-rank percentiles and the progress log on stderr."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable

Log = Callable[[str], None]


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile `q` (0 to 1) of `values`, in any order; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def stderr_log(prefix: str = "") -> Log:
    """A log that prints each message to stderr with the seconds since it was made."""
    started = time.monotonic()
    label = f"{prefix} " if prefix else ""

    def log(message: str) -> None:
        print(f"[{label}{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return log
