from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "inbox",
    __name__,
    url_prefix="/v1",
    description="The player's inbox: messages, rewards to claim; admins send messages",
)

from blueprints.inbox import routes  # noqa: E402,F401  (registers the views)
