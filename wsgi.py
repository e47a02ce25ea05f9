"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

from registry import create_app

app = create_app()
# What start-up built lives as long as the process. Frozen, it is left out of the cyclic
# collector's full passes, which otherwise walk all of it (some 100,000 objects, ~100 ms
# in which a worker answers nothing) every few thousand requests.
gc.freeze()
