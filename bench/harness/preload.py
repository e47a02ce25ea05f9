"""Imported once by the fork server (`bench.harness.processes`): every module a worker needs."""

from bench.harness import load  # noqa: F401
from bench.harness.app import make_app
from bench.scenarios import allocation  # noqa: F401

# Building an app once imports every blueprint, model and extension module.
make_app("sqlite://")
