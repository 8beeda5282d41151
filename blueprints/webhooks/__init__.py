from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/webhooks",
    description="Provider events (Twitch EventSub, a Steam relay, PayPal, key suppliers): "
    "verified, stored, then applied by a job. Stripe's is with commerce.",
)

from blueprints.webhooks import routes  # noqa: E402,F401  (registers the views)
