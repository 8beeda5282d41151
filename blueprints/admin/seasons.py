from flask.views import MethodView

from blueprints.admin import bp
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from blueprints.leaderboards import index
from blueprints.leaderboards.schemas import SeasonCreateSchema, SeasonSchema, SeasonUpdateSchema
from player_platform.db import utcnow
from player_platform.leaderboards import service


@bp.route("/seasons")
class SeasonAdminCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SeasonCreateSchema)
    @bp.response(201, SeasonSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(409, description="season_exists")
    def post(self, body):
        """Create a season (admin)"""
        with platform().db.unit_of_work() as session:
            return service.create_season(
                session, index(), actor=staff("admin"), values=body, origin=origin(), now=utcnow()
            )


@bp.route("/seasons/<season_id>")
class SeasonAdminItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SeasonUpdateSchema)
    @bp.response(200, SeasonSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="season_not_found")
    @bp.alt_response(409, description="season_closed")
    def patch(self, body, season_id):
        """Change a season's window, bounds, rewards or reset rule (admin)"""
        with platform().db.unit_of_work() as session:
            return service.update_season(
                session,
                actor=staff("admin"),
                season_id=season_id,
                values=body,
                origin=origin(),
                now=utcnow(),
            )
