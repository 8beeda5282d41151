from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "keys",
    __name__,
    url_prefix="/v1",
    description="Game keys: the player's keys (masked; revealed one at a time, audited), "
    "and the warehouse for admins (bulk import, inventory, revocation)",
)

from blueprints.keys import routes  # noqa: E402,F401  (registers the views)
