from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "mail",
    __name__,
    url_prefix="/v1",
    description="Email accounts: address verification and password reset by mailed links",
)

from blueprints.mail import routes  # noqa: E402,F401  (registers the views)
