"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc
import sys

from registry import create_app
from registry.core.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # a setting missing or wrong: say which, without a traceback
    sys.exit(f"configuration error: {error}")
# What start-up built lives as long as the process. Frozen, it is left out of the cyclic
# collector's full passes, which otherwise walk all of it (some 100,000 objects, ~100 ms
# in which a worker answers nothing) every few thousand requests.
gc.freeze()
