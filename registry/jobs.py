"""What each of the scheduler's jobs does (`scheduler.JOBS` says when): each reads what is due,
calls one operation, and returns what it did for the log. Imported by the scheduler only."""

from __future__ import annotations

import os
import socket
import threading

from flask import Flask


def run_lapse_verifications(app: Flask) -> int:
    from registry.merchants.operations import lapse_expired_verifications

    return lapse_expired_verifications()


# Set on SIGTERM: the dispatch pass in progress stops claiming new work and
# finishes the call it is placing; unplaced claims come back when their lease ends.
STOPPING = threading.Event()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
STARTED_AT = None  # set by the first dispatch pass


def _beat() -> None:
    """The heartbeat /readyz and /metrics report: this process finished a dispatch pass now."""
    global STARTED_AT
    from registry.core.timeutil import utcnow
    from registry.ops.heartbeat import beat

    STARTED_AT = STARTED_AT or utcnow()
    beat(WORKER_NAME, STARTED_AT)


def run_dispatch_callbacks(app: Flask) -> dict:
    from registry.callbacks.dispatch import dispatch_once
    from registry.callbacks.settings import Urls, settings_from_config
    from registry.telephony import get_gateway

    settings = settings_from_config(app.config, WORKER_NAME)
    result = dispatch_once(get_gateway(), settings, Urls(app.config["PUBLIC_BASE_URL"]),
                           stop=STOPPING.is_set)
    _beat()
    return result


def run_end_expired_bindings(app: Flask) -> int:
    from registry.masking.allocation import end_expired

    return end_expired()


def run_copy_recordings(app: Flask) -> dict:
    from registry.calllog.recordings import copy_recordings

    return copy_recordings(app)


def run_apply_retention(app: Flask):
    from registry.calllog.retention import retention_job

    return retention_job(app)


def run_settle_silent_calls(app: Flask) -> dict:
    from registry.callbacks.outcomes import RetryRules
    from registry.callbacks.watchdog import settle_silent_calls
    from registry.telephony import get_gateway

    return settle_silent_calls(get_gateway(), RetryRules.from_config(app.config))


def run_seal_call_log(app: Flask) -> int:
    from registry.calllog.chain import seal_pending

    return seal_pending()


def run_checkpoint_call_log(app: Flask) -> str:
    from registry.calllog.checkpoints import write_checkpoint

    return write_checkpoint(app)


def run_verify_call_log(app: Flask) -> str:
    from registry.calllog.verification import verify_call_log

    return verify_call_log(app)


def run_forget_idempotency_keys(app: Flask) -> int:
    from registry.integrations.idempotency_keys import forget_expired

    return forget_expired(app.config["IDEMPOTENCY_KEY_TTL_HOURS"])


def run_forget_stale_login_failures(app: Flask) -> int:
    from registry.accounts.lockout import forget_stale

    return forget_stale()


def run_forget_integration_calls(app: Flask) -> int:
    from registry.integrations.operations import forget_old_calls

    return forget_old_calls(app.config["INTEGRATION_CALLS_RETENTION_DAYS"])


def run_check_pool(app: Flask) -> dict:
    from registry.masking.capacity import check_pool
    from registry.telephony import get_gateway

    return check_pool(get_gateway(), app.config)


def run_deliver_webhooks(app: Flask) -> dict:
    from registry.webhooks.delivery import DeliverySettings, deliver_due

    return deliver_due(DeliverySettings.from_config(app.config, WORKER_NAME), stop=STOPPING.is_set)
