"""Servers on 127.0.0.1 the benchmarks start, always stopped (also on errors).

`gunicorn()` serves the app (`wsgi:app`) or the trivial baseline
(`bench.harness.trivial_app:app`); `webhook_stub()` answers the Twilio
simulator's callbacks (`bench.harness.webhook_stub`). The simulator itself
runs in the benchmark's own process (`bench.harness.simulator`).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import ROOT
from bench.harness.processes import spawn, stop


def free_port() -> int:
    """A TCP port nothing on 127.0.0.1 listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    """Whether an HTTP request to the server gets any answer (its workers are up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /bench-ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


class ServerFailed(RuntimeError):
    pass


@contextmanager
def gunicorn(app_spec: str, env_for_port: Callable[[int], dict[str, str]], workers: int,
             log_path: Path, timeout: float = 60.0) -> Iterator[tuple[int, int]]:
    """Serve `app_spec` with `gunicorn -w workers` on a free port; yield the port and
    the pid of gunicorn's master process (its workers are the master's children)."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--chdir", str(ROOT), "--log-level", "warning", app_spec]
    with open(log_path, "wb") as log:
        proc = spawn(command, env=env_for_port(port), log=log)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise ServerFailed(f"gunicorn {app_spec} did not start; its log ends:\n{tail}")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        stop(proc)


@contextmanager
def webhook_stub() -> Iterator[tuple[str, int]]:
    """The stub answering the simulator's webhooks; yields its URL and pid."""
    proc = spawn([sys.executable, "-m", "bench.harness.webhook_stub"])
    try:
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise ServerFailed("the webhook stub did not start")
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        stop(proc, grace=5.0)
