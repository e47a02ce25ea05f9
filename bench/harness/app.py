"""The app as the benchmarks run it: one configuration for this process and its children.

`app_settings()` names what differs from the defaults (the bench database,
fixed secrets, where Twilio and the public URL are); `child_environment()`
turns that into a server's or scheduler's environment, dropping any
tunable set in ours so every run uses the defaults; `make_app()` builds the
same app in this process (no files written).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from bench.harness import ROOT

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Fixed secrets: the benchmark's databases are throwaway, and the servers it
# starts and the load generator must agree on them.
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DATA_KEY = "bench-data-key-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105
ACCOUNT_SID = "AC" + "b" * 32
NOWHERE = "http://127.0.0.1:9"  # a URL nothing answers


def admin_url() -> str:
    """The server benchmarks create their databases on: $BENCH_DATABASE_URL, else the local one."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)


def app_settings(url: str, public_base_url: str = NOWHERE, twilio_api_url: str = NOWHERE, *,
                 account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN,
                 **tunables: str) -> dict[str, str]:
    """Environment variables for the app on database `url` (tunables by name, as strings)."""
    return {
        "REGISTRY_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DATA_KEY": DATA_KEY,
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_URL": twilio_api_url,
        "PUBLIC_BASE_URL": public_base_url,
        "RECORD_CALLS": "true",
        **tunables,
    }


def child_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any tunable, plus `settings`."""
    from registry.core.config import BOOL_TUNABLES, INT_TUNABLES, STR_TUNABLES

    tunables = set(INT_TUNABLES) | set(STR_TUNABLES) | set(BOOL_TUNABLES)
    env = {k: v for k, v in os.environ.items() if k not in tunables}
    env.update(settings)
    return env


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_app(settings: dict[str, str] | str):
    """The app configured from `settings` alone (or the default settings for a database URL).

    They are in the environment while the app is built, so it reads its secrets
    from there rather than from (or into) files in its instance folder."""
    from registry import create_app
    from registry.core.config import load_config

    if isinstance(settings, str):
        settings = app_settings(settings)
    with _environ(settings):
        return create_app(load_config(ROOT / "instance", environ=settings))
