from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "ugc",
    __name__,
    url_prefix="/v1",
    description="User-generated content: uploads straight to object storage, then scanning",
)

from blueprints.ugc import routes  # noqa: E402,F401  (registers the views)
