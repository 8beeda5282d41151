from flask.views import MethodView

from blueprints.http import BEARER_AUTH, STAFF_ERRORS, current_player, origin, platform, staff
from blueprints.inbox import bp
from blueprints.inbox.schemas import (
    ClaimSchema,
    DeleteQuerySchema,
    InboxMessageSchema,
    InboxPageSchema,
    InboxQuerySchema,
    MessageSendSchema,
    SentMessageSchema,
)
from player_platform.db import utcnow
from player_platform.messaging import service as inbox
from player_platform.usecases import inbox as messages


@bp.route("/me/inbox")
class InboxCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(InboxQuerySchema, location="query")
    @bp.response(200, InboxPageSchema)
    def get(self, query):
        """The caller's messages, newest first (`?unread=true` for unread ones only), with the
        number unread; expired messages leave the list"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            return inbox.list_inbox(session, user_id=user_id, now=utcnow(), **query)


@bp.route("/me/inbox/<uuid:message_id>")
class InboxItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(DeleteQuerySchema, location="query")
    @bp.response(204)
    @bp.alt_response(404, description="message_not_found")
    @bp.alt_response(409, description="unclaimed_attachments: send ?force=true to give them up")
    def delete(self, query, message_id):
        """Delete a message from the caller's inbox"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            inbox.delete(session, user_id=user_id, message_id=message_id, now=utcnow(), **query)


@bp.route("/me/inbox/<uuid:message_id>/read")
class InboxRead(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, InboxMessageSchema)
    @bp.alt_response(404, description="message_not_found")
    def post(self, message_id):
        """Mark a message read"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            return inbox.read(session, user_id=user_id, message_id=message_id, now=utcnow())


@bp.route("/me/inbox/<uuid:message_id>/claim")
class InboxClaim(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ClaimSchema)
    @bp.alt_response(404, description="message_not_found")
    @bp.alt_response(409, description="already_claimed, nothing_to_claim")
    @bp.alt_response(410, description="expired")
    def post(self, message_id):
        """Grant the message's attachments to the caller, once"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            claimed = messages.claim(session, user_id=user_id, message_id=message_id, now=utcnow())
            return {
                "message": claimed.message,
                "entitlements": claimed.granted.entitlements,
                "balances": claimed.granted.balances,
            }


@bp.route("/admin/messages")
class MessageCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(MessageSendSchema)
    @bp.response(201, SentMessageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    @bp.alt_response(422, description="unknown_recipients, not_a_currency, not_grantable")
    def post(self, body):
        """Send a message to players or everyone, delivered by a job (admin, audited)"""
        p = platform()
        with p.db.unit_of_work() as session:
            actor = staff("admin")
            body.pop("everyone")
            return messages.send_message(
                session, jobs=p.jobs, sender_id=actor.id, origin=origin(), now=utcnow(), **body
            )
