from flask_smorest import Blueprint

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/v1/admin",
    description="Operators: audit log (staff tokens need a TOTP sign-in)",
)

from blueprints.admin import routes  # noqa: E402,F401  (registers the views)
