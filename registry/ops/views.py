"""`/healthz`, `/readyz` and `/metrics` (docs/operations.md)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify

from registry.core.bearer import bearer_token
from registry.core.extensions import db
from registry.core.metrics import render
from registry.ops import checks, heartbeat
from registry.ops.scrape import DatabaseCollector

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering; nothing else is touched."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when the database answers, its schema is at head and Redis (if used) answers; else 503
    naming the failed checks. The scheduler's heartbeat is reported, never failing."""
    app = current_app._get_current_object()
    results = checks.database_and_migrations(db.engine, checks.migration_heads(app))
    results["redis"] = checks.redis(app)
    if results["database"]["ok"]:
        try:
            results["scheduler"] = heartbeat.report()
        except Exception as exc:  # a schema without the table: migrations already says so
            db.session.rollback()
            results["scheduler"] = {"ok": True, "error": type(exc).__name__, "stale": True}
    failed = sorted(name for name, result in results.items() if not result["ok"])
    body = {"status": "unready" if failed else "ready", "failed": failed, "checks": results}
    response = jsonify(body)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus' text format; with `METRICS_TOKEN` set, only for `Authorization: Bearer <it>`
    (in production it must be set: without it the answer is 403)."""
    token = current_app.config.get("METRICS_TOKEN", "")
    if token:
        given = bearer_token() or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response("metrics: a valid bearer token is required\n", 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    elif current_app.config.get("REGISTRY_ENV") == "production":
        return Response("metrics: set METRICS_TOKEN to open /metrics in production\n", 403,
                        mimetype="text/plain")
    body = render(current_app.config, [DatabaseCollector(current_app._get_current_object())])
    return Response(body, 200, mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
