from flask_smorest import Blueprint

bp = Blueprint(
    "ugc",
    __name__,
    url_prefix="/v1",
    description="User-generated content: uploads straight to object storage, then scanning",
)

from blueprints.ugc import routes  # noqa: E402,F401  (registers the views)
