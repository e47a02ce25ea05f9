"""Configuration: the only module that reads the environment.

`load_config()` turns the process environment into a plain dict for
`app.config`. Development gets working defaults (a SQLite file, generated
secrets kept in `instance/`, the built-in Twilio simulator); production
(`REGISTRY_ENV=production`) refuses to start with any of them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

# The built-in simulator's account. Public, fixed values: they only ever
# authenticate against the simulator, and production refuses them.
SIMULATOR_ACCOUNT_SID = "AC" + "5" * 32
SIMULATOR_AUTH_TOKEN = "simulator-auth-token-0000000000"  # noqa: S105 - public by design
SIMULATOR_VERIFY_SERVICE_SID = "VA" + "5" * 32

ENVIRONMENTS = ("development", "testing", "production")

# Tunables with their defaults (docs/configuration.md); each may be overridden by the
# environment variable of the same name.
INT_TUNABLES: dict[str, int] = {
    "CALLBACK_RETRY_BACKOFF_SECONDS": 300,
    "CALLBACK_MAX_ATTEMPTS": 3,
    "BINDING_TTL_HOURS": 72,
    # The longest `ttl_hours` a client may ask for a binding (`POST /api/v1/bindings`): 30 days.
    "BINDING_MAX_TTL_HOURS": 720,
    "PROXY_NUMBER_CAP": 200,
    "OUTBOUND_CPS": 1,
    "VERIFICATION_LAPSE_DAYS": 180,
    # One-time code policy.
    "VERIFY_CODE_TTL_SECONDS": 600,
    "VERIFY_MAX_CHECKS": 5,
    "VERIFY_RESEND_SECONDS": 60,
    "VERIFY_SENDS_PER_NUMBER_HOUR": 5,
    "VERIFY_SENDS_PER_NUMBER_DAY": 10,
    "VERIFY_SENDS_PER_IP_HOUR": 20,
    "VERIFY_SENDS_PER_ACCOUNT_DAY": 30,
    "API_MAX_PER_PAGE": 100,
    # Per-account sign-in lockout (registry/accounts/lockout.py); 0 failures switches it off.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_SECONDS": 60,
    "LOGIN_LOCKOUT_MAX_SECONDS": 3600,
    # Evidence: retention of personal data in the call log, and copying recordings.
    "RETENTION_CALL_RECORDS_DAYS": 730,
    "RETENTION_RECORDINGS_DAYS": 183,
    "RECORDING_COPY_MAX_ATTEMPTS": 8,
    "RECORDING_COPY_RETRY_SECONDS": 60,
    # How long the signed download link of a `recording.ready` event works, and how long a
    # presigned URL of the object store (a staff member's player, a link's redirect) lasts.
    "RECORDING_LINK_TTL_SECONDS": 3600,
    "RECORDINGS_S3_URL_SECONDS": 60,
    # Processes that walk the hash chain in parallel (0: one per CPU).
    "CALLLOG_VERIFY_WORKERS": 0,
    # Integration clients' Idempotency-Key: how long a key is kept (at least 24), and how long a
    # request may hold one before a retry may take it over (its request is taken to have died).
    "IDEMPOTENCY_KEY_TTL_HOURS": 24,
    "IDEMPOTENCY_LEASE_SECONDS": 300,
    # How long the log of integration clients' calls is kept.
    "INTEGRATION_CALLS_RETENTION_DAYS": 90,
    # Proxy pool: a country is low when its free capacity falls under this percentage of its
    # capacity; the scheduler then buys up to POOL_AUTO_BUY_MAX numbers a day (0: never).
    "POOL_LOW_WATERMARK": 10,
    "POOL_AUTO_BUY_MAX": 0,
    # Outbound webhooks (registry/webhooks, docs/webhooks.md).
    "WEBHOOK_DISABLE_AFTER_HOURS": 120,
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_SECRET_OVERLAP_HOURS": 24,
    "WEBHOOK_BATCH": 100,
    "WEBHOOK_CONCURRENCY": 16,
    # A once-per-period job's lease (registry/core/periodic.py): renewed while the job runs, so a
    # scheduler killed mid-job hands its period to another this long after it died.
    "JOB_LEASE_SECONDS": 120,
}
# Lowest values a tunable may take (below them the promise made to clients would not hold).
INT_MINIMUMS: dict[str, int] = {"IDEMPOTENCY_KEY_TTL_HOURS": 24, "IDEMPOTENCY_LEASE_SECONDS": 1,
                                "INTEGRATION_CALLS_RETENTION_DAYS": 1, "RECORDING_LINK_TTL_SECONDS": 1,
                                "RECORDINGS_S3_URL_SECONDS": 1, "JOB_LEASE_SECONDS": 1}
STR_TUNABLES: dict[str, str] = {
    "SHOPPER_CALL_HOURS": "08:00-21:00",
    "DEFAULT_REGION": "CN",
    "AUTH_RATE_LIMIT": "10 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
}
BOOL_TUNABLES: dict[str, bool] = {"RECORD_CALLS": True, "WEBHOOK_ALLOW_PRIVATE": False}
# Seconds to wait before each retry of a failed webhook delivery, comma-separated.
WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"
WEBHOOK_AUDIENCES = ("all", "owner")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can run with."""


def _read_or_create_secret(instance_path: Path, name: str) -> str:
    """Return a development secret kept in `instance/`, creating it once."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _parse_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


def parse_schedule(name: str, value: str) -> tuple[int, ...]:
    """`"5,300,1800"` -> (5, 300, 1800); an empty value means no retries."""
    return tuple(_parse_int(name, part.strip()) for part in value.split(",") if part.strip())


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _operations(config: dict, env: Mapping[str, str], production: bool) -> None:
    """Logs, metrics, proxies and shared state (docs/operations.md)."""
    config["LOG_FORMAT"] = env.get("LOG_FORMAT", "text").strip().lower()
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    config["LOG_LEVEL"] = env.get("LOG_LEVEL", "INFO").strip().upper()
    if config["LOG_LEVEL"] not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    config["METRICS_TOKEN"] = env.get("METRICS_TOKEN", "")
    config["PROMETHEUS_MULTIPROC_DIR"] = env.get("PROMETHEUS_MULTIPROC_DIR", "")
    if config["PROMETHEUS_MULTIPROC_DIR"]:
        # prometheus-client writes its files there from the first count, and fails if it is missing.
        Path(config["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    for name in ("TRUSTED_PROXIES", "SCHEDULER_METRICS_PORT"):
        config[name] = _parse_int(name, env[name]) if name in env else 0
    if config["SCHEDULER_METRICS_PORT"] > 65535:
        raise ConfigError("SCHEDULER_METRICS_PORT must be a port number (0 switches it off)")
    if production:
        storage = env.get("RATELIMIT_STORAGE_URI", STR_TUNABLES["RATELIMIT_STORAGE_URI"]).strip()
        if storage.startswith("memory://"):
            # Each process would keep its own counts: limits would multiply by the workers and hosts.
            raise ConfigError("RATELIMIT_STORAGE_URI must name a shared store in production "
                              "(redis://host:6379), not memory://")


def _checkpoint_key(config: dict, env: Mapping[str, str]) -> None:
    """The call log's checkpoint signing key(s), refused at start-up if unreadable. Unset, development
    generates one in the instance folder when first used (calllog/checkpoints.py); production
    then writes no checkpoints (docs/configuration.md)."""
    from registry.core.signing_keys import parse_private_keys

    value = env.get("CHECKPOINT_SIGNING_KEY", "").strip()
    if value:
        try:
            parse_private_keys(value)
        except ValueError as exc:
            raise ConfigError(f"CHECKPOINT_SIGNING_KEY must be Ed25519 private keys (base64 of the raw "
                              f"32 bytes, or PEM), comma-separated: {exc}") from None
    config["CHECKPOINT_SIGNING_KEY"] = value


def load_config(instance_path: str | Path, environ: Mapping[str, str] | None = None) -> dict:
    """Build the app configuration from `environ` (default: `os.environ`)."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    mode = env.get("REGISTRY_ENV", "development")
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"REGISTRY_ENV must be one of {', '.join(ENVIRONMENTS)}")
    production = mode == "production"

    config: dict = {"REGISTRY_ENV": mode, "TESTING": mode == "testing"}
    config["SQLALCHEMY_DATABASE_URI"] = env.get(
        "DATABASE_URL", f"sqlite:///{(instance / 'registry.sqlite3').as_posix()}"
    )

    for name in ("SECRET_KEY", "DATA_KEY"):
        value = env.get(name)
        if not value:
            if production:
                raise ConfigError(f"{name} must be set in production")
            value = _read_or_create_secret(instance, name.lower())
        # DATA_KEY may list several keys, newest first (a key rotation): each must be long enough.
        parts = [part.strip() for part in value.split(",")] if name == "DATA_KEY" else [value]
        if production and min(len(part) for part in parts) < 32:
            raise ConfigError(f"{name} must be at least 32 characters in production")
        config[name] = value

    _checkpoint_key(config, env)

    config["TWILIO_ACCOUNT_SID"] = env.get("TWILIO_ACCOUNT_SID", SIMULATOR_ACCOUNT_SID)
    config["TWILIO_AUTH_TOKEN"] = env.get("TWILIO_AUTH_TOKEN", SIMULATOR_AUTH_TOKEN)
    config["TWILIO_VERIFY_SERVICE_SID"] = env.get(
        "TWILIO_VERIFY_SERVICE_SID", SIMULATOR_VERIFY_SERVICE_SID
    )
    # In production an unset TWILIO_API_URL means "talk to Twilio itself"; elsewhere, the built-in
    # simulator where `make run` starts it (SIMULATOR_PORT, PORT: a flask command given the same
    # ports as `make run` reaches the same simulator and names the same web address).
    simulator_url = f"http://127.0.0.1:{env.get('SIMULATOR_PORT') or '5001'}"
    config["TWILIO_API_URL"] = env.get("TWILIO_API_URL", "" if production else simulator_url)
    config["PUBLIC_BASE_URL"] = env.get("PUBLIC_BASE_URL",
                                        f"http://127.0.0.1:{env.get('PORT') or '5000'}").rstrip("/")

    if production:
        simulated = {
            "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": SIMULATOR_AUTH_TOKEN,
            "TWILIO_VERIFY_SERVICE_SID": SIMULATOR_VERIFY_SERVICE_SID,
        }
        for name, dev_value in simulated.items():
            if config[name] == dev_value:
                raise ConfigError(f"{name} must be set to the real Twilio value in production")
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True

    for name, default in INT_TUNABLES.items():
        config[name] = _parse_int(name, env[name]) if name in env else default
        if config[name] < INT_MINIMUMS.get(name, 0):
            raise ConfigError(f"{name} must be at least {INT_MINIMUMS[name]}")
    if config["POOL_LOW_WATERMARK"] > 100:
        raise ConfigError("POOL_LOW_WATERMARK is a percentage: at most 100")
    for name, default in STR_TUNABLES.items():
        config[name] = env.get(name, default)
    for name, default in BOOL_TUNABLES.items():
        config[name] = _parse_bool(name, env[name]) if name in env else default
    config["WEBHOOK_RETRY_SCHEDULE"] = parse_schedule(
        "WEBHOOK_RETRY_SCHEDULE", env.get("WEBHOOK_RETRY_SCHEDULE", WEBHOOK_RETRY_SCHEDULE))
    # Who hears an event about a store, binding or callback: every subscribed endpoint, or only
    # those of the clients that own it (registry/webhooks/events.py, docs/webhooks.md).
    config["WEBHOOK_AUDIENCE"] = env.get("WEBHOOK_AUDIENCE", "all").strip().lower()
    if config["WEBHOOK_AUDIENCE"] not in WEBHOOK_AUDIENCES:
        raise ConfigError(f"WEBHOOK_AUDIENCE must be one of {', '.join(WEBHOOK_AUDIENCES)}")
    # Where copied call recordings are kept; empty means `recordings/` in the app's
    # instance folder (resolved when used, so a test app's own instance folder counts).
    config["RECORDINGS_DIR"] = env.get("RECORDINGS_DIR", "")
    # Or object storage: `s3://bucket/prefix` (calllog/storage.py; docs/configuration.md).
    config["RECORDINGS_STORAGE"] = env.get("RECORDINGS_STORAGE", "").strip()
    if config["RECORDINGS_STORAGE"] not in ("", "local"):
        if not config["RECORDINGS_STORAGE"].startswith("s3://") or len(config["RECORDINGS_STORAGE"]) <= 5:
            raise ConfigError("RECORDINGS_STORAGE must be empty, 'local' or s3://bucket/prefix")
    config["RECORDINGS_S3_ENDPOINT_URL"] = env.get("RECORDINGS_S3_ENDPOINT_URL", "")
    config["RECORDINGS_S3_REGION"] = env.get("RECORDINGS_S3_REGION", "")
    config["RECORDINGS_S3_SERVE"] = env.get("RECORDINGS_S3_SERVE", "redirect")
    if config["RECORDINGS_S3_SERVE"] not in ("redirect", "stream"):
        raise ConfigError("RECORDINGS_S3_SERVE must be redirect or stream")
    _operations(config, env, production)

    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["MAX_CONTENT_LENGTH"] = 64 * 1024
    config["BABEL_DEFAULT_LOCALE"] = "en"
    config["RATELIMIT_HEADERS_ENABLED"] = True
    config["RATELIMIT_ENABLED"] = mode != "testing" or env.get("RATELIMIT_ENABLED") == "true"
    return config
