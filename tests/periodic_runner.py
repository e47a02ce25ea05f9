"""A scheduler process for the once-per-period test: runs two short-period jobs for a while.

    python -m tests.periodic_runner DATABASE_URL SIMULATOR_URL OUTFILE SECONDS HOLDER

Each job's run appends `job period holder` to OUTFILE (one write, O_APPEND) and sleeps a little,
so that runs of several processes overlap; the process stops after SECONDS.
"""

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.conftest import make_test_app


def main(database_url: str, simulator_url: str, outfile: str, seconds: str, holder: str) -> None:
    from registry.core.extensions import db
    from registry.core.periodic import JobRun
    from registry.scheduler import Job, build_scheduler

    app = make_test_app(database_url, simulator_url, Path(tempfile.mkdtemp()), JOB_LEASE_SECONDS=5)

    def recorder(name: str, every: int):
        def run(app):
            period = db.session.scalar(db.select(JobRun.period_start).where(
                JobRun.job == name, JobRun.holder == holder, JobRun.finished_at.is_(None)))
            line = f"{name} {period.isoformat()} {holder}\n"  # the period it claimed
            fd = os.open(outfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
            time.sleep(0.2)
            return 1
        return run

    jobs = (Job("every-2s", 2, recorder("every-2s", 2)), Job("every-3s", 3, recorder("every-3s", 3)))
    scheduler = build_scheduler(app, jobs, holder)
    threading.Timer(float(seconds), lambda: scheduler.shutdown(wait=True)).start()
    scheduler.start()
    print("stopped", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
