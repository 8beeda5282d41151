from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "wallet",
    __name__,
    url_prefix="/v1",
    description="Entitlements and wallets: what players own and their ledger of consumables",
)

from blueprints.wallet import routes  # noqa: E402,F401  (registers the views)
