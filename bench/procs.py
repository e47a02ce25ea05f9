"""Worker processes start from a fork server that has already imported the app.

Spawning a fresh interpreter per worker costs a second or two of imports,
which on two cores would eat into the very measures the workers take; a
fork server pays that once and forks warm, single-threaded copies of it.
"""

from __future__ import annotations

import multiprocessing


def context():
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # no fork server on this platform
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(["bench.preload"])
    return ctx
