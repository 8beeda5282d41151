from flask_smorest import Blueprint

bp = Blueprint(
    "auth", __name__, url_prefix="/v1/auth", description="Sign-in, registration and session tokens"
)

from blueprints.auth import routes  # noqa: E402,F401  (registers the views)
