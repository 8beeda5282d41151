from flask.views import MethodView

from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from blueprints.moderation import bp
from blueprints.moderation.schemas import (
    AppealResolutionSchema,
    DecisionSchema,
    ModeratedAppealSchema,
    ModeratedItemSchema,
    ModeratedReportSchema,
    QueuePageSchema,
    QueueQuerySchema,
    ReportResolutionSchema,
)
from player_platform.db import utcnow
from player_platform.ugc import moderation, queue
from player_platform.ugc.listing import HotLists

CLAIMED = "claimed_by_other"


def desk() -> moderation.Desk:
    p = platform()
    return moderation.Desk(
        jobs=p.jobs,
        hot=HotLists(p.redis),
        two_person_removal=p.settings.ugc_two_person_removal,
        claim_seconds=p.settings.ugc_claim_seconds,
    )


def moderator() -> moderation.Moderator:
    return moderation.Moderator(id=staff("moderator").id, origin=origin(), now=utcnow())


@bp.route("/queue")
class Queue(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(QueueQuerySchema, location="query")
    @bp.response(200, QueuePageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(422, description="validation_error, invalid_cursor")
    def get(self, query):
        """What waits: items pending review or flagged, open reports, appeals; oldest first"""
        limit, cursor = query.pop("limit"), query.pop("cursor")
        with platform().db.unit_of_work() as session:
            staff("moderator")
            return queue.queue(
                session, filters=queue.QueueFilters(**query), limit=limit, cursor=cursor
            )


@bp.route("/ugc/<uuid:ugc_id>/claim")
class Claim(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ModeratedItemSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="ugc_not_found")
    @bp.alt_response(409, description=f"{CLAIMED} (with claimed_by and claimed_until)")
    def post(self, ugc_id):
        """Hold an item for a few minutes (PP_UGC_CLAIM_SECONDS); claiming again renews"""
        with platform().db.unit_of_work() as session:
            return moderation.claim(session, desk(), ugc_id=ugc_id, moderator=moderator())

    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ModeratedItemSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="ugc_not_found")
    @bp.alt_response(409, description=CLAIMED)
    def delete(self, ugc_id):
        """Give your claim up"""
        with platform().db.unit_of_work() as session:
            return moderation.release(session, ugc_id=ugc_id, moderator=moderator())


@bp.route("/ugc/<uuid:ugc_id>/decision")
class Decision(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(DecisionSchema)
    @bp.response(200, ModeratedItemSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="ugc_not_found")
    @bp.alt_response(409, description=f"invalid_transition, {CLAIMED}, second_moderator_required")
    def post(self, body, ugc_id):
        """approve, reject, remove or restore; the owner is told"""
        with platform().db.unit_of_work() as session:
            return moderation.decide(session, desk(), ugc_id=ugc_id, moderator=moderator(), **body)


@bp.route("/reports/<uuid:report_id>/resolve")
class ResolveReport(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(ReportResolutionSchema)
    @bp.response(200, ModeratedReportSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="report_not_found")
    @bp.alt_response(409, description=f"report_resolved, {CLAIMED}, invalid_transition")
    def post(self, body, report_id):
        """Dismiss a report, or uphold it: the item is removed"""
        with platform().db.unit_of_work() as session:
            return moderation.resolve_report(
                session, desk(), report_id=report_id, moderator=moderator(), **body
            )


@bp.route("/appeals/<uuid:appeal_id>/resolve")
class ResolveAppeal(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AppealResolutionSchema)
    @bp.response(200, ModeratedAppealSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="appeal_not_found")
    @bp.alt_response(409, description=f"appeal_resolved, {CLAIMED}, invalid_transition")
    def post(self, body, appeal_id):
        """Uphold the removal, or restore the item"""
        with platform().db.unit_of_work() as session:
            return moderation.resolve_appeal(
                session, desk(), appeal_id=appeal_id, moderator=moderator(), **body
            )
