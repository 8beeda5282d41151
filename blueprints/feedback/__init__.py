from blueprints.body import ApiBlueprint

bp = ApiBlueprint(
    "feedback", __name__, url_prefix="/v1/feedback", description="Players report bugs and abuse"
)
admin_bp = ApiBlueprint(
    "feedback_admin",
    __name__,
    url_prefix="/v1/admin/feedback",
    description="Moderators triage feedback (staff tokens need a TOTP sign-in)",
)

from blueprints.feedback import routes  # noqa: E402,F401  (registers the views)
