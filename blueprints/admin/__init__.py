from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "admin",
    __name__,
    url_prefix="/v1/admin",
    description="Operators and moderators: audit log, bans (staff tokens need a TOTP sign-in)",
)

from blueprints.admin import (  # noqa: E402,F401  (registers the views)
    analytics,
    api_keys,
    routes,
    seasons,
    suppliers,
    users,
    webhooks,
)
