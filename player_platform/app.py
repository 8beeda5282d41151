"""create_app: settings, extensions, blueprints and error handlers. Nothing else at start-up."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from player_platform.config import Settings
from player_platform.logs import configure_logging
from player_platform.platform import Platform, bind_current

API_DESCRIPTION = """Self-hosted backend for game studios. Errors are RFC 9457 problem details
with a stable `code`; writes that can be retried take an `Idempotency-Key` header."""


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> Flask:
    from blueprints import docs, files, guards, ops, problems
    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.body import ApiRequest, StrictJSONProvider
    from blueprints.commerce import bp as commerce_bp
    from blueprints.console import install as install_console
    from blueprints.drops import bp as drops_bp
    from blueprints.feedback import admin_bp as feedback_admin_bp
    from blueprints.feedback import bp as feedback_bp
    from blueprints.inbox import bp as inbox_bp
    from blueprints.keys import bp as keys_bp
    from blueprints.leaderboards import bp as leaderboards_bp
    from blueprints.leaderboards import moderation_bp as leaderboard_moderation_bp
    from blueprints.mail import bp as mail_bp
    from blueprints.me import bp as me_bp
    from blueprints.moderation import bp as moderation_bp
    from blueprints.storefront import bp as storefront_bp
    from blueprints.ugc import bp as ugc_bp
    from blueprints.wallet import bp as wallet_bp
    from blueprints.webhooks import bp as webhooks_bp

    settings = settings or (platform.settings if platform else Settings.from_env())
    platform = platform or Platform.from_settings(settings)
    if settings.env != "test":
        configure_logging()
    if platform.jobs.inline:
        bind_current(platform)

    app = Flask("player_platform")
    app.request_class = ApiRequest
    app.json = StrictJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="Player Platform",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # no call to swagger.io either
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "apiKeyAuth": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Authorization",
                        "description": "Server API key: `Authorization: ApiKey <key>`",
                    },
                }
            },
        },
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.extensions["player_platform"] = platform
    app.extensions["player_platform.metrics"] = ops.Metrics(platform.jobs, platform.db)

    api = problems.ProblemApi(app)
    api.register_blueprint(auth_bp)
    api.register_blueprint(me_bp)
    api.register_blueprint(admin_bp)
    api.register_blueprint(commerce_bp)
    api.register_blueprint(wallet_bp)
    api.register_blueprint(inbox_bp)
    api.register_blueprint(leaderboards_bp)
    api.register_blueprint(leaderboard_moderation_bp)
    api.register_blueprint(ugc_bp)
    api.register_blueprint(moderation_bp)
    api.register_blueprint(mail_bp)
    api.register_blueprint(feedback_bp)
    api.register_blueprint(feedback_admin_bp)
    api.register_blueprint(drops_bp)
    api.register_blueprint(keys_bp)
    api.register_blueprint(webhooks_bp)
    api.register_blueprint(storefront_bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(docs.bp)
    install_console(app)
    problems.register(app)
    guards.install(app)
    return app
