from flask.views import MethodView

from blueprints.feedback import admin_bp, bp
from blueprints.feedback.schemas import (
    FeedbackCreatedSchema,
    FeedbackCreateSchema,
    FeedbackDetailSchema,
    FeedbackPageSchema,
    FeedbackQuerySchema,
    FeedbackSchema,
    FeedbackTriageSchema,
)
from blueprints.http import (
    BEARER_AUTH,
    STAFF_ERRORS,
    current_player,
    idempotent,
    origin,
    platform,
    staff,
)
from player_platform.db import utcnow
from player_platform.feedback import service as feedback
from player_platform.feedback.service import AttachmentDeclaration, Report


@bp.route("")
class FeedbackCollection(MethodView):
    @idempotent
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(FeedbackCreateSchema)
    @bp.response(201, FeedbackCreatedSchema)
    @bp.alt_response(422, description="too_many_attachments, file_too_large")
    @bp.alt_response(429, description="rate_limited (PP_RATE_LIMIT_FEEDBACK_USER per hour)")
    def post(self, body):
        """Report a bug, abuse or a suggestion; PUT each attachment to its upload URL"""
        p = platform()
        declared = [AttachmentDeclaration(**a) for a in body.pop("attachments")]
        with p.db.unit_of_work() as session:
            report, uploads = feedback.submit(
                session, storage=p.storage, limiter=p.limiter, policy=p.feedback_policy,
                user_id=current_player().id, report=Report(**body, attachments=declared),
                now=utcnow(),
            )  # fmt: skip
        return {"feedback": report, "uploads": uploads}


@admin_bp.route("")
class FeedbackTriageCollection(MethodView):
    @admin_bp.doc(security=BEARER_AUTH)
    @admin_bp.arguments(FeedbackQuerySchema, location="query")
    @admin_bp.response(200, FeedbackPageSchema)
    @admin_bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """Feedback reports, newest first, by status, category and assignee (moderators)"""
        with platform().db.unit_of_work() as session:
            staff("moderator")
            return feedback.list_feedback(session, **query)


@admin_bp.route("/<uuid:feedback_id>")
class FeedbackTriageItem(MethodView):
    @admin_bp.doc(security=BEARER_AUTH)
    @admin_bp.response(200, FeedbackDetailSchema)
    @admin_bp.alt_response(403, description=STAFF_ERRORS)
    @admin_bp.alt_response(404, description="feedback_not_found")
    def get(self, feedback_id):
        """One report, with a 5-minute download URL per uploaded attachment (moderators)"""
        p = platform()
        with p.db.unit_of_work() as session:
            staff("moderator")
            report, downloads = feedback.get_feedback(
                session, storage=p.storage, feedback_id=feedback_id
            )
            attachments = [
                {
                    **vars(d.attachment),
                    "uploaded": d.stored is not None,
                    "download_url": d.download_url,
                }
                for d in downloads
            ]
            return {**vars(report), "attachments": attachments}

    @admin_bp.doc(security=BEARER_AUTH)
    @admin_bp.arguments(FeedbackTriageSchema)
    @admin_bp.response(200, FeedbackSchema)
    @admin_bp.alt_response(403, description=STAFF_ERRORS)
    @admin_bp.alt_response(404, description="feedback_not_found")
    @admin_bp.alt_response(422, description="invalid_assignee")
    def patch(self, body, feedback_id):
        """Set status, assignee and notes (moderators, audited)"""
        with platform().db.unit_of_work() as session:
            actor = staff("moderator")
            return feedback.triage(
                session, feedback_id=feedback_id, actor_id=actor.id, changes=body,
                origin=origin(), now=utcnow(),
            )  # fmt: skip
