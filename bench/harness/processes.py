"""Processes the benchmarks start: fork-server workers and child programs, always stopped.

Spawning a fresh interpreter per worker costs a second or two of imports,
which on two cores would eat into the very measures the workers take; a
fork server pays that once and forks warm, single-threaded copies of it.
Child programs (gunicorn, schedulers, the webhook stub) run in their own
session, so a Ctrl-C reaches only us and we stop them in order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from bench.harness import ROOT


def context():
    """The multiprocessing context worker processes start from."""
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # no fork server on this platform
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(["bench.harness.preload"])
    return ctx


@contextmanager
def worker_processes(ctx, target: Callable, arglists: Sequence[tuple],
                     join_timeout: float = 30.0) -> Iterator[list]:
    """One daemon process per argument tuple, started; joined at the end of the block,
    terminated if still alive (also on errors)."""
    procs = [ctx.Process(target=target, args=args, daemon=True) for args in arglists]
    try:
        for proc in procs:
            proc.start()
        yield procs
        for proc in procs:
            proc.join(join_timeout)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


def spawn(command: list[str], *, env: dict[str, str] | None = None, log=None) -> subprocess.Popen:
    """Run `command` from the repository root in a session of its own; its output goes to
    the open file `log`, or (without one) stdout to a pipe read as text."""
    output = ({"stdout": log, "stderr": subprocess.STDOUT} if log
              else {"stdout": subprocess.PIPE, "text": True})
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        command, cwd=ROOT, env=env, start_new_session=True, **output)


def stop(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a child we started: TERM to its process group, KILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
