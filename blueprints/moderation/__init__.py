from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "ugc_moderation",
    __name__,
    url_prefix="/v1/moderation",
    description="Moderators: the UGC queue, claims, decisions, reports and appeals",
)

from blueprints.moderation import routes  # noqa: E402,F401  (registers the views)
