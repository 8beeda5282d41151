from blueprints.body import ApiBlueprint
from blueprints.http import platform
from player_platform.ugc.listing import HotLists

bp = ApiBlueprint(
    "ugc",
    __name__,
    url_prefix="/v1/ugc",
    description="User-generated content: upload straight to object storage, then browse, "
    "download, rate, report and appeal",
)
NOT_FOUND = "ugc_not_found"


def hot_lists() -> HotLists:
    return HotLists(platform().redis)


from blueprints.ugc import items, uploads  # noqa: E402,F401  (registers the views)
