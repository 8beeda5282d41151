from flask.views import MethodView

from blueprints.admin import bp
from blueprints.admin.schemas import WebhookEventPageSchema, WebhookEventSchema, WebhookQuerySchema
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from player_platform.db import utcnow
from player_platform.webhooks import service as webhooks


@bp.route("/webhooks")
class WebhookCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(WebhookQuerySchema, location="query")
    @bp.response(200, WebhookEventPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """Inbound webhook events, newest first; `status=failed` lists those to replay (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return webhooks.list_events(session, **query)


@bp.route("/webhooks/<uuid:event_id>/replay")
class WebhookReplay(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, WebhookEventSchema)
    @bp.alt_response(404, description="webhook_event_not_found")
    @bp.alt_response(409, description="webhook_event_not_failed")
    def post(self, event_id):
        """Process a failed event again, with a fresh count of attempts (admin, audited)"""
        p = platform()
        with p.db.unit_of_work() as session:
            actor = staff("admin")
            return webhooks.replay(
                session,
                jobs=p.jobs,
                row_id=event_id,
                actor_id=actor.id,
                origin=origin(),
                now=utcnow(),
            )
