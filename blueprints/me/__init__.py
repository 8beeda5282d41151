from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "me",
    __name__,
    url_prefix="/v1/me",
    description="The signed-in player: profile, sessions, second factor",
)

from blueprints.me import routes  # noqa: E402,F401  (registers the views)
