"""The review console at /moderation/: server-rendered pages for moderators and admins.

HTML glue only: every action calls the service the JSON API calls (ugc.moderation,
identity.bans, commerce.flows, keys, feedback, webhooks, security.api_keys, leaderboards,
analytics), so no decision is implemented twice. Sign-in, sessions and CSRF are in auth.py
and web.py.
"""

from flask import Blueprint, Flask

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/moderation",
    template_folder="templates",  # templates/console/...: namespaced
    static_folder="static",
    static_url_path="/static",
)


def install(app: Flask) -> None:
    from blueprints.console import web

    web.install(app)
    auth.install(app)
    app.register_blueprint(bp)


from blueprints.console import web  # noqa: E402

web.attach(bp)

from blueprints.console import (  # noqa: E402,F401  (register the views)
    audit,
    auth,
    commerce,
    dashboard,
    feedback,
    keys,
    leaderboards,
    players,
    queue,
)
