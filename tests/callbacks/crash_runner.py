"""A scheduler process for the crash tests: one dispatch pass, optionally killed.

    python -m tests.callbacks.crash_runner POINT DATABASE_URL SIMULATOR_URL PUBLIC_BASE_URL

POINT is where the process dies with `os._exit` (no cleanup, no commit, as
with SIGKILL): `after_claim`, `before_twilio`, `after_twilio`, or `none`.
"""

import os
import sys
import tempfile
from pathlib import Path

from registry.telephony.gateway import TelephonyGateway
from tests.conftest import make_test_app


def die():
    sys.stdout.flush()
    os._exit(137)


def main(point: str, database_url: str, simulator_url: str, public_url: str) -> None:
    app = make_test_app(database_url, simulator_url, Path(tempfile.mkdtemp()),
                        SHOPPER_CALL_HOURS="00:00-24:00", OUTBOUND_CPS=0, RECORD_CALLS=False,
                        PUBLIC_BASE_URL=public_url)
    real_create_call = TelephonyGateway.create_call

    def create_call(self, **kwargs):
        if point == "before_twilio":
            die()
        sid = real_create_call(self, **kwargs)
        if point == "after_twilio":
            die()
        return sid

    TelephonyGateway.create_call = create_call
    if point == "after_claim":
        import registry.callbacks.dispatch as dispatch

        dispatch.begin = lambda *args, **kwargs: die()
    from registry.scheduler import JOBS, run_job

    job = next(j for j in JOBS if j.name == "dispatch-callbacks")
    print(run_job(app, job), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
