from flask import current_app
from sqlalchemy.engine import Engine

from blueprints.body import ApiBlueprint
from blueprints.http import platform
from player_platform.leaderboards.batch import GroupCommit
from player_platform.leaderboards.index import LeaderboardIndex

bp = ApiBlueprint(
    "leaderboards",
    __name__,
    url_prefix="/v1",
    description="Seasons and their leaderboards: submit scores, read ranks, final standings",
)
moderation_bp = ApiBlueprint(
    "leaderboard_moderation",
    __name__,
    url_prefix="/v1/moderation/leaderboards",
    description="Moderators: take a score off a leaderboard, or put it back",
)


def index() -> LeaderboardIndex:
    """The leaderboard index of the app's Platform."""
    return platform().leaderboards


def group_commit() -> GroupCommit | None:
    """The app's group commit of submissions; None when the database is not an engine of its
    own (tests that run every request in one rolled-back connection write directly)."""
    extensions = current_app.extensions
    if "player_platform.leaderboards.group" not in extensions:
        db = platform().db
        usable = isinstance(db.bind, Engine) and db.dialect == "postgresql"
        extensions["player_platform.leaderboards.group"] = (
            GroupCommit(db, index()) if usable else None
        )
    return extensions["player_platform.leaderboards.group"]


from blueprints.leaderboards import moderation, routes  # noqa: E402,F401  (registers the views)
