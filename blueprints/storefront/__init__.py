from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "storefront",
    __name__,
    url_prefix="/v1",
    description="Wishlists, invoices, and signed webhooks to the studio's own systems",
)

from blueprints.storefront import routes  # noqa: E402,F401  (registers the views)
