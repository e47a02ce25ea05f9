"""Imported once by the fork server (`bench.procs`): every module a worker needs."""

from bench import allocation, loadgen  # noqa: F401
from bench.setup_db import make_app

# Building an app once imports every blueprint, model and extension module.
make_app("sqlite://")
