from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "drops",
    __name__,
    url_prefix="/v1",
    description="Twitch Drops: campaigns, and the drops granted to the caller",
)

from blueprints.drops import routes  # noqa: E402,F401  (registers the views)
