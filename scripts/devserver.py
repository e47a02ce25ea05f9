"""`make run`: the web app, the Twilio simulator and the scheduler together.

One command starts all three; Ctrl-C (or any one of them dying) stops all. The web app runs as
in production, under gunicorn with `gunicorn.conf.py` (no debugger, no reloader), with two
workers unless WEB_CONCURRENCY says otherwise; the development defaults (SQLite, the simulator,
generated secrets) stay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
WEB_PORT = os.environ.get("PORT", "5000")
SIM_PORT = os.environ.get("SIMULATOR_PORT", "5001")

# The simulated Twilio account owns these; `proxy sync` puts them in the pool.
DEMO_PROXY_NUMBERS = ("+8613900000001", "+8613900000002", "+8613900000003")
PROCESSES = {
    "web": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{WEB_PORT}",
            "wsgi:app"],
    "simulator": FLASK + ["simulator", "run", "--port", SIM_PORT]
    + [arg for number in DEMO_PROXY_NUMBERS for arg in ("--number", number)],
    "scheduler": FLASK + ["scheduler", "run"],
}


def wait_until_up(url: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local URL we built
                return True
        except OSError:
            time.sleep(0.3)
    return False


def main() -> int:
    env = dict(os.environ)
    env.setdefault("TWILIO_API_URL", f"http://127.0.0.1:{SIM_PORT}")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{WEB_PORT}")
    env.setdefault("WEB_CONCURRENCY", "2")
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in PROCESSES.items()}
    if wait_until_up(f"http://127.0.0.1:{SIM_PORT}/"):
        # Point the simulated numbers' webhooks at the app and add them to the pool.
        subprocess.run(FLASK + ["proxy", "sync"], cwd=ROOT, env=env, check=False)
    print(
        f"\n  Registry      http://127.0.0.1:{WEB_PORT}/\n"
        f"  Phones (sim)  http://127.0.0.1:{SIM_PORT}/   <- codes sent by SMS arrive here\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in running.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the others", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.3)
    for proc in running.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in running.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
