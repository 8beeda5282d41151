from flask.views import MethodView

from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from blueprints.leaderboards import index, moderation_bp
from blueprints.leaderboards.schemas import EntrySchema, RemovalSchema
from player_platform.db import utcnow
from player_platform.leaderboards import service


@moderation_bp.route("/<season_id>/entries/<uuid:user_id>")
class Entry(MethodView):
    @moderation_bp.doc(security=BEARER_AUTH)
    @moderation_bp.arguments(RemovalSchema)
    @moderation_bp.response(200, EntrySchema)
    @moderation_bp.alt_response(403, description=STAFF_ERRORS)
    @moderation_bp.alt_response(404, description="season_not_found, entry_not_found")
    def delete(self, body, season_id, user_id):
        """Take a player's score off the board; they cannot re-enter until restored"""
        with platform().db.unit_of_work() as session:
            return service.remove_entry(
                session,
                index(),
                actor=staff("moderator"),
                season_id=season_id,
                user_id=user_id,
                origin=origin(),
                now=utcnow(),
                **body,
            )


@moderation_bp.route("/<season_id>/entries/<uuid:user_id>/restore")
class RestoreEntry(MethodView):
    @moderation_bp.doc(security=BEARER_AUTH)
    @moderation_bp.response(200, EntrySchema)
    @moderation_bp.alt_response(403, description=STAFF_ERRORS)
    @moderation_bp.alt_response(404, description="season_not_found, entry_not_found")
    def post(self, season_id, user_id):
        """Put a removed score back on the board"""
        with platform().db.unit_of_work() as session:
            return service.restore_entry(
                session,
                index(),
                actor=staff("moderator"),
                season_id=season_id,
                user_id=user_id,
                origin=origin(),
                now=utcnow(),
            )
