"""Starting and stopping gunicorn on 127.0.0.1 (always stopped, also on errors)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.settings import ROOT


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
        # Its own session: a Ctrl-C reaches only us, and we stop it in order.
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            command, env=env_for_port(port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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


def stop(proc: subprocess.Popen) -> None:
    """Stop a server we started: TERM to its process group, KILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
