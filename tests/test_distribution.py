"""The product and the Twilio simulator are separate distributions.

The registry reaches the simulator only through `TWILIO_API_URL`, as it reaches
Twilio: neither imports the other, the product's wheel carries neither the
simulator nor its OpenAPI specs, and openapi-core (the simulator's validator)
is not among the product's runtime requirements.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR_SOURCES = ROOT / "twilio_sim" / "src"


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module `path` imports (relative imports excluded)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.partition(".")[0])
    return modules


def offenders(folder: Path, forbidden: str) -> list[str]:
    """The Python files under `folder` that import the top-level package `forbidden`."""
    return sorted(
        str(path.relative_to(ROOT)) for path in folder.rglob("*.py") if forbidden in imported_modules(path)
    )


def test_the_product_imports_nothing_of_the_simulator():
    assert (ROOT / "registry" / "__init__.py").exists()
    assert offenders(ROOT / "registry", "twilio_sim") == []


def test_the_simulator_imports_nothing_of_the_product():
    assert (SIMULATOR_SOURCES / "twilio_sim" / "__init__.py").exists()
    assert offenders(SIMULATOR_SOURCES, "registry") == []
    assert offenders(ROOT / "twilio_sim" / "tests", "registry") == []
    assert offenders(ROOT / "twilio_sim" / "tests", "tests") == []


@pytest.fixture(scope="module")
def product_wheel(tmp_path_factory) -> Path:
    """The product's wheel, built from a copy of this checkout without dependencies or network."""
    # A copy: setuptools builds in the source tree, and a stale build/ there would both leak
    # old files into the wheel and be left behind by the test.
    source = tmp_path_factory.mktemp("source") / "registry"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".*", "__pycache__", "build", "*.egg-info", "instance", "recordings", "test-artifacts"))
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: the dev extra's setuptools, not one downloaded for the build.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(out)],
        capture_output=True, text=True, timeout=300, cwd=source,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("registry-*.whl")
    return wheel


def test_the_product_wheel_carries_no_simulator_and_no_specs(product_wheel):
    names = zipfile.ZipFile(product_wheel).namelist()
    assert "registry/__init__.py" in names
    simulator = [name for name in names
                 if any(part in ("twilio_sim", "simulator") for part in Path(name).with_suffix("").parts)]
    assert simulator == []
    assert [name for name in names if name.endswith((".json", ".yaml", ".yml"))] == []


def test_openapi_core_is_not_a_runtime_requirement_of_the_product(product_wheel):
    with zipfile.ZipFile(product_wheel) as wheel:
        (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(wheel.read(metadata).decode())
    runtime = [req for req in message.get_all("Requires-Dist") or [] if "extra ==" not in req]
    assert runtime, "the product has runtime requirements"
    names = {re.match(r"[A-Za-z0-9._-]+", req).group().lower().replace("_", "-") for req in runtime}
    assert "flask" in names
    assert not names & {"openapi-core", "openapi-schema-validator", "twilio-sim"}


def test_flask_simulator_run_reaches_the_product_cli_from_the_simulator_distribution(tmp_path):
    # `flask --app wsgi simulator run` (README, scripts/devserver.py) is a Flask plugin command
    # of the installed simulator: the product's own CLI groups do not include it.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "simulator", "run", "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "--number E164" in result.stdout
