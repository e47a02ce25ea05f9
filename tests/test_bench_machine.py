"""The benchmark's CPU meter: a tracked process tree's time is its own, not the rest's."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.harness.machine import Meter

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux /proc")

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_a_tracked_process_tree_is_accounted_apart_from_the_rest():
    # The child burns CPU in a grandchild, as gunicorn's workers do under their master, says
    # when it is done, and outlives the measure, as a server does.
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                              f"subprocess.run([sys.executable, '-c', {BURN!r}])\n"
                              "print('burnt', flush=True)\ntime.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        meter = Meter()
        meter.track("server", child.pid)
        meter.start()
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass  # this process is "rest"
        assert child.stdout.readline().strip() == "burnt"
        meter.stop()
    finally:
        child.kill()
        child.wait()
    assert meter.cpu_seconds["server"] >= 0.3
    assert meter.cpu_seconds["rest"] >= 0.45
    assert meter.cpu_seconds["postgres"] == 0
    assert 0 < meter.busy <= 1
