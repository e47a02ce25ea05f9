"""Verified merchant phone registry with masked callbacks: the app factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from registry.core.config import load_config


def create_app(config: Mapping | None = None) -> Flask:
    """Build the web app. `config` overrides what the environment says."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_body_limits(app)
    register_security(app)
    register_text_checks(app)
    register_template_helpers(app)
    register_commands(app)
    configure_logging(app)
    register_unit_of_work(app)
    register_client_auth(app)
    register_database_retry(app)
    register_recording_hooks(app)
    register_proxy_fix(app)
    return app


def register_extensions(app: Flask) -> None:
    from registry.accounts.auth import init_login
    from registry.core.extensions import babel, csrf, db, limiter, migrate
    from registry.core.i18n import select_locale
    from registry.core.phones import PhoneCipher
    from registry.core.pool_ping import ping_idle_connections
    from registry.telephony import init_telephony

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_idle_connections(engine)
    migrate.init_app(app, db, directory=_migrations_directory(), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    init_login(app)
    init_telephony(app)
    app.extensions["phone_cipher"] = PhoneCipher(app.config["DATA_KEY"])
    _import_models()


def _import_models() -> None:
    """Import every model module so metadata (and Alembic) sees all tables."""
    import registry.accounts.models  # noqa: F401
    import registry.audit.models  # noqa: F401
    import registry.callbacks.models  # noqa: F401
    import registry.calllog.models  # noqa: F401
    import registry.complaints.models  # noqa: F401
    import registry.core.periodic  # noqa: F401
    import registry.integrations.models  # noqa: F401
    import registry.masking.models  # noqa: F401
    import registry.merchants.models  # noqa: F401
    import registry.ops.models  # noqa: F401
    import registry.shoppers.models  # noqa: F401
    import registry.verification.models  # noqa: F401
    import registry.webhooks.models  # noqa: F401


def _migrations_directory() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


def register_unit_of_work(app: Flask) -> None:
    """A request's changes are committed after a successful response, in one place (after the
    extensions, so that this step runs before theirs: see `core.transactions`)."""
    from registry.core.transactions import register_unit_of_work as register

    register(app)


def register_client_auth(app: Flask) -> None:
    """Integration clients' `rk_` keys on the JSON API, and the log of their calls (after the
    unit of work, so that a call's log row is committed with it: see `integrations.auth`)."""
    from registry.integrations.auth import init_client_auth
    from registry.integrations.idempotency import init_idempotency

    init_client_auth(app)
    init_idempotency(app)


def register_recording_hooks(app: Flask) -> None:
    """A stored recording is announced to the marketplace (`recording.ready`, `webhooks.recordings`);
    with `WEBHOOK_AUDIENCE=owner` the outbox asks who owns an event's objects (`callbacks.audience`)."""
    from registry.callbacks.audience import owners_of
    from registry.calllog.recordings import on_stored
    from registry.webhooks.events import on_audience
    from registry.webhooks.recordings import recording_ready

    on_stored(app, recording_ready)
    on_audience(app, owners_of)


def register_body_limits(app: Flask) -> None:
    """Views that take large bodies (an import) raise the body limit for themselves (`core.bodies`)."""
    from registry.core.bodies import register_body_limits as register

    register(app)


def register_security(app: Flask) -> None:
    """The JSON API's CSRF check for browser sessions and the security headers (`core.security`)."""
    from registry.core.security import register_security as register

    register(app)


def register_database_retry(app: Flask) -> None:
    """A GET or HEAD that lost its database connection runs once more (`core.db_loss`)."""
    from registry.core.db_loss import RetryIdempotentRequests

    app.wsgi_app = RetryIdempotentRequests(app.wsgi_app)


def register_blueprints(app: Flask) -> None:
    from registry.accounts.api import bp as accounts_api
    from registry.accounts.views import bp as accounts_views
    from registry.callbacks.api import bp as callbacks_api
    from registry.callbacks.client_api import bp as callbacks_client_api
    from registry.callbacks.embed import bp as embed_views
    from registry.callbacks.views import bp as callbacks_views
    from registry.callbacks.webhooks import bp as callback_webhooks
    from registry.calllog.api import bp as recordings_api
    from registry.complaints.api import bp as complaints_api
    from registry.complaints.views import bp as complaints_views
    from registry.core.extensions import csrf
    from registry.core.openapi.views import bp as openapi_views
    from registry.core.urls import DatabaseId
    from registry.integrations.api import bp as integrations_api
    from registry.masking.api import bp as pool_api
    from registry.masking.client_api import bp as bindings_api
    from registry.masking.webhooks import bp as twilio_webhooks
    from registry.merchants.api import bp as merchants_api
    from registry.merchants.client_api import bp as merchants_client_api
    from registry.merchants.views import bp as merchants_views
    from registry.ops.views import bp as ops_views
    from registry.public import bp as public_views
    from registry.shoppers.api import bp as shoppers_api
    from registry.shoppers.views import bp as shoppers_views
    from registry.staff.clients import bp as staff_clients
    from registry.staff.imports import bp as staff_imports
    from registry.staff.pool import bp as staff_pool
    from registry.staff.views import bp as staff_views
    from registry.staff.webhook_console import bp as staff_webhooks
    from registry.webhooks.api import bp as webhooks_api

    # Before any rule is added: every `<int:…>` id is bounded to what the database can hold.
    app.url_map.converters["int"] = DatabaseId
    for api in (accounts_api, merchants_api, shoppers_api, callbacks_api, complaints_api,
                integrations_api, bindings_api, callbacks_client_api, pool_api, webhooks_api,
                merchants_client_api, recordings_api, openapi_views):
        # The JSON API authenticates by bearer token or by the session. Bearer
        # clients have no form token; requests riding the browser session are
        # checked by `core.security` instead (same Origin or an X-CSRFToken
        # header, and a JSON body).
        csrf.exempt(api)
        app.register_blueprint(api)
    # Twilio's webhooks are authenticated by their signature instead.
    for webhooks in (twilio_webhooks, callback_webhooks):
        csrf.exempt(webhooks)
        app.register_blueprint(webhooks)
    for blueprint in (public_views, accounts_views, merchants_views, shoppers_views, callbacks_views,
                      complaints_views, staff_views, staff_clients, staff_pool, staff_webhooks,
                      embed_views, staff_imports, ops_views):
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from registry.core.errors import register_error_handlers as register

    register(app)


def register_text_checks(app: Flask) -> None:
    from registry.core.text import register_text_checks as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from registry.core.i18n import register_template_helpers as register

    register(app)


def register_commands(app: Flask) -> None:
    from registry.accounts.cli import users_cli
    from registry.calllog.cli import calllog_cli
    from registry.core.keys import keys_cli
    from registry.demo import demo_cli
    from registry.integrations.cli import clients_cli
    from registry.masking.cli import proxy_cli
    from registry.scheduler import scheduler_cli

    for group in (users_cli, clients_cli, proxy_cli, scheduler_cli, calllog_cli, demo_cli, keys_cli):
        app.cli.add_command(group)


def register_proxy_fix(app: Flask) -> None:
    """Behind `TRUSTED_PROXIES` proxies (0: none), the client address, scheme and host are taken
    from their X-Forwarded-* headers, so the limits and the audit see the client's address."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,
                                x_prefix=hops)


def configure_logging(app: Flask) -> None:
    from registry.core.log_privacy import hide_phone_numbers_in_access_logs
    from registry.core.logs import install_handler, register_request_ids
    from registry.core.metrics import register_http_metrics

    # The Twilio SDK logs every request's parameters (phone numbers among
    # them) at INFO, and the access log writes each request line (a staff
    # search by phone among them); personal data never goes to logs.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    hide_phone_numbers_in_access_logs()
    register_request_ids(app)
    register_http_metrics(app)
    if (not app.debug and not app.testing) or app.config.get("LOG_FORMAT") == "json":
        install_handler(app.config.get("LOG_FORMAT", "text"), app.config.get("LOG_LEVEL", "INFO"))
