from datetime import timedelta

from flask import Response, request
from flask.views import MethodView

from blueprints.admin.schemas import PageQuerySchema
from blueprints.http import (
    BEARER_AUTH,
    BEARER_OR_API_KEY,
    current_actor,
    current_caller,
    current_player,
    idempotent,
    json_response,
    platform,
)
from blueprints.leaderboards import bp, group_commit, index
from blueprints.leaderboards.schemas import (
    AroundQuerySchema,
    BoardQuerySchema,
    ScoreSubmitSchema,
    SeasonPageSchema,
    StandingPageSchema,
    StandingSchema,
    SubmissionSchema,
    TopQuerySchema,
)
from player_platform.db import utcnow
from player_platform.leaderboards import reads, service

RECENT = timedelta(days=30)  # ended seasons listed this long after their end
# One instance each for the hot routes: webargs would build a schema per request from a class.
TOP_QUERY, AROUND_QUERY, BOARD_QUERY = TopQuerySchema(), AroundQuerySchema(), BoardQuerySchema()
SUBMIT_BODY = ScoreSubmitSchema()


def _standing(s: reads.Standing) -> dict:
    return {
        "rank": s.rank,
        "user_id": str(s.user_id),
        "display_name": s.display_name,
        "score": s.score,
        "metadata": s.metadata,
    }


def _standings(items: list[reads.Standing], next_cursor: str | None) -> Response:
    return json_response({"items": [_standing(s) for s in items], "next_cursor": next_cursor})


@bp.route("/seasons")
class SeasonCollection(MethodView):
    @bp.arguments(PageQuerySchema, location="query")
    @bp.response(200, SeasonPageSchema)
    def get(self, query):
        """Seasons running now or ended in the last 30 days, newest first"""
        with platform().db.unit_of_work() as session:
            return service.list_seasons(session, since=utcnow() - RECENT, **query)


@bp.route("/leaderboards/<season_id>/scores")
class ScoreCollection(MethodView):
    @bp.doc(security=BEARER_OR_API_KEY)
    @bp.arguments(SUBMIT_BODY)
    @idempotent
    @bp.response(200, SubmissionSchema)
    @bp.alt_response(401, description="unauthorized, invalid_token, invalid_api_key")
    @bp.alt_response(403, description="server_only, missing_scope, entry_removed")
    @bp.alt_response(404, description="season_not_found, user_not_found")
    @bp.alt_response(409, description="season_closed, region_required")
    @bp.alt_response(422, description="score_out_of_bounds, user_id_required")
    def post(self, body, season_id):
        """Submit a score: the season's operator applies; answers the rank it gives"""
        # With an Idempotency-Key the write commits with the key's record, so not in a group.
        group = None if "Idempotency-Key" in request.headers else group_commit()
        with platform().db.unit_of_work() as session:
            done = service.submit_score(
                session,
                index(),
                caller=current_caller(service.WRITE_SCOPE),
                season_id=season_id,
                now=utcnow(),
                group=group,
                **body,
            )
        return json_response(
            {"score": done.score, "best": done.best, "rank": done.rank, "previous": done.previous}
        )


@bp.route("/leaderboards/<season_id>")
class Leaderboard(MethodView):
    @bp.arguments(TOP_QUERY, location="query")
    @bp.response(200, StandingPageSchema)
    @bp.alt_response(404, description="season_not_found")
    @bp.alt_response(422, description="region_required, invalid_cursor")
    def get(self, query, season_id):
        """The top of the board, best first, `limit` per page"""
        with platform().db.unit_of_work() as session:
            page = reads.top(session, index(), season_id=season_id, **query)
        return _standings(page.items, page.next_cursor)


@bp.route("/leaderboards/<season_id>/me")
class MyStanding(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(BOARD_QUERY, location="query")
    @bp.response(200, StandingSchema)
    @bp.alt_response(404, description="season_not_found, not_ranked")
    def get(self, query, season_id):
        """The caller's rank and score (regional seasons: the caller's region by default)"""
        with platform().db.unit_of_work() as session:
            actor = current_player()
            (standing,) = reads.around(
                session,
                index(),
                season_id=season_id,
                user_id=actor.id,
                region=query["region"] or actor.user.region,
                radius=0,
            )
        return json_response(_standing(standing))


@bp.route("/leaderboards/<season_id>/friends")
class FriendsBoard(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(BoardQuerySchema, location="query")
    @bp.response(200, StandingPageSchema)
    @bp.alt_response(404, description="season_not_found")
    @bp.alt_response(503, description="provider_unavailable")
    def get(self, query, season_id):
        """The caller and their Steam friends who play here, ranked among themselves"""
        p = platform()
        with p.db.unit_of_work() as session:
            user = current_actor().user
            items = reads.friends(
                session,
                index(),
                p.steam,
                season_id=season_id,
                user=user,
                region=query["region"] or user.region,
            )
            return {"items": items, "next_cursor": None}


@bp.route("/leaderboards/<season_id>/around/<uuid:user_id>")
class AroundPlayer(MethodView):
    @bp.arguments(AROUND_QUERY, location="query")
    @bp.response(200, StandingPageSchema)
    @bp.alt_response(404, description="season_not_found, not_ranked")
    def get(self, query, season_id, user_id):
        """A player's standing with `radius` neighbours above and below"""
        with platform().db.unit_of_work() as session:
            items = reads.around(session, index(), season_id=season_id, user_id=user_id, **query)
        return _standings(items, None)


@bp.route("/leaderboards/<season_id>/archive")
class Archive(MethodView):
    @bp.arguments(TopQuerySchema, location="query")
    @bp.response(200, StandingPageSchema)
    @bp.alt_response(404, description="season_not_found, archive_not_found")
    def get(self, query, season_id):
        """Final standings of a closed season"""
        with platform().db.replica_session() as session:
            return reads.archive(session, season_id=season_id, **query)
