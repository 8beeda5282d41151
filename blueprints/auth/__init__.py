from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "auth", __name__, url_prefix="/v1/auth", description="Sign-in, registration and session tokens"
)

from blueprints.auth import routes  # noqa: E402,F401  (registers the views)
