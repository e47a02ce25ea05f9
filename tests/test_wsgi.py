"""The WSGI entry point gunicorn imports in every worker."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, sys
import wsgi
print("simulator" if any(name.partition(".")[0] == "twilio_sim" for name in sys.modules) else "-",
      "openapi" if "openapi_core" in sys.modules else "-",
      "frozen" if gc.get_freeze_count() > 1000 else "-")
"""


def test_a_web_worker_loads_no_simulator_and_freezes_what_start_up_built(tmp_path):
    # A fresh interpreter, as a gunicorn worker is: the test session has the simulator loaded.
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                              "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["-", "-", "frozen"]


def test_a_missing_production_setting_is_named_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "REGISTRY_ENV": "production",
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"})
    assert result.returncode == 1
    assert "configuration error: SECRET_KEY must be set in production" in result.stderr
    assert "Traceback" not in result.stderr
