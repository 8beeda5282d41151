from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "commerce",
    __name__,
    url_prefix="/v1",
    description="Catalog, purchases with Steam, Epic and Stripe, orders and refunds",
)

from blueprints.commerce import resellers, routes  # noqa: E402,F401  (registers the views)
