"""gunicorn's settings for the web processes: `gunicorn -c gunicorn.conf.py wsgi:app`.

Read by the master before any worker imports the app; each value can be moved by the
environment variable beside it (docs/operations.md).
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Workers from the CPU count (the usual 2 × CPUs + 1), unless WEB_CONCURRENCY says otherwise.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Twilio gives a webhook 15 s before it gives up on the answer: a worker stuck longer than this is
# restarted well before, and a shutdown waits as long for the requests in flight.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "12"))
graceful_timeout = timeout
keepalive = 5
# The client address behind a load balancer comes from the app (TRUSTED_PROXIES), not gunicorn.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multiprocess mode: every worker writes its counts under this directory and a scrape
# of any worker adds them up. It must be set before prometheus-client is first imported (in the
# workers); emptied when the master starts; a dead worker's live gauges are dropped (child_exit).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="registry-metrics-")


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# The access log in the app's own format (LOG_FORMAT: text or json, one object per line), with the
# request id the app returned, and phone-number query values hidden (core.log_privacy).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
_formatter = ("registry.core.logs.JsonFormatter" if os.environ.get("LOG_FORMAT", "text").lower() == "json"
              else "registry.core.logs.TextFormatter")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"app": {"()": _formatter}},
    "filters": {"phones": {"()": "registry.core.log_privacy.HidePhoneParameters"},
                "context": {"()": "registry.core.logs.RequestContext"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "app",
                            "filters": ["phones", "context"], "stream": "ext://sys.stderr"}},
    # The app installs the root logger's handler itself (core.logs), in the same format.
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO").upper(), "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": os.environ.get("LOG_LEVEL", "INFO").upper(), "handlers": ["stderr"],
                           "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
