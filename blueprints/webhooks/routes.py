import time

from flask import Response, request
from flask.views import MethodView

from blueprints.commerce.schemas import WebhookAckSchema
from blueprints.http import platform
from blueprints.webhooks import bp
from player_platform.commerce.paypal_api import parse_event as parse_paypal_event
from player_platform.commerce.refunds import relay_event
from player_platform.db import utcnow
from player_platform.drops import campaigns
from player_platform.errors import NotFound
from player_platform.suppliers.kinguin import NAME as KINGUIN
from player_platform.suppliers.kinguin import verify_webhook
from player_platform.webhooks import service as webhooks
from player_platform.webhooks.signatures import eventsub_message, json_object, verify_relay


def _store(provider: str, event_id: str, event_type: str, payload: dict) -> dict:
    p = platform()
    with p.db.unit_of_work() as session:
        new = webhooks.store_event(
            session,
            jobs=p.jobs,
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            now=utcnow(),
        )
    return {"received": True, "duplicate": not new}


@bp.route("/twitch")
class TwitchWebhook(MethodView):
    @bp.response(200, WebhookAckSchema)
    @bp.alt_response(403, description="invalid_signature, stale_message")
    @bp.alt_response(422, description="invalid_event")
    def post(self):
        """Twitch EventSub: the challenge answered as text/plain; notifications and
        revocations verified (Twitch-Eventsub-Message-Signature), stored, applied by a job"""
        p = platform()
        message = eventsub_message(
            request.headers,
            request.get_data(),
            secret=p.settings.twitch_eventsub_secret,
            now=utcnow(),
        )
        if message.message_type == "webhook_callback_verification":
            with p.db.unit_of_work() as session:
                campaigns.subscription_verified(
                    session, subscription_id=str(message.subscription.get("id"))
                )
            return Response(message.body["challenge"], mimetype="text/plain")
        return _store(
            "twitch",
            message.message_id,
            message.message_type
            if message.message_type == "revocation"
            else str(message.subscription.get("type")),
            {"message_type": message.message_type, "body": message.body},
        )


@bp.route("/steam")
class SteamWebhook(MethodView):
    @bp.response(200, WebhookAckSchema)
    @bp.alt_response(401, description="invalid_signature")
    @bp.alt_response(422, description="invalid_event")
    def post(self):
        """A studio's Steam relay: refunds and chargebacks signed with X-PP-Signature
        (README, "Webhooks"), reversed like the GetReport rows polling finds"""
        body = request.get_data()
        verify_relay(
            timestamp=request.headers.get("X-PP-Timestamp", ""),
            signature=request.headers.get("X-PP-Signature", ""),
            body=body,
            secret=platform().settings.steam_webhook_secret,
            now=time.time(),
        )
        event = relay_event(json_object(body, what="Steam relay event"))
        return _store("steam", event["id"], event["type"], event)


@bp.route("/suppliers/<name>")
class SupplierWebhook(MethodView):
    @bp.response(204)
    @bp.alt_response(401, description="invalid_signature")
    @bp.alt_response(404, description="supplier_not_found")
    @bp.alt_response(422, description="invalid_event")
    def post(self, name):
        """A key supplier's event (Kinguin: X-Event-Secret, PROVIDERS.md 4.1): verified,
        stored once, answered 204 with an empty body, applied by a job"""
        if name != KINGUIN:
            raise NotFound(
                f"No supplier {name[:64]!r} sends webhooks here.", code="supplier_not_found"
            )
        event = verify_webhook(
            request.headers, request.get_data(), secret=platform().settings.kinguin_webhook_secret
        )
        _store(
            KINGUIN,
            event.event_id,
            event.event_type,
            {"event": event.event_type, "body": event.payload},
        )


@bp.route("/paypal")
class PayPalWebhook(MethodView):
    @bp.response(200, WebhookAckSchema)
    @bp.alt_response(401, description="invalid_signature")
    @bp.alt_response(422, description="invalid_event")
    def post(self):
        """PayPal events: verified with PayPal (verify-webhook-signature, PROVIDERS.md 5.2),
        stored, then applied by a job (capture completed, refunded, reversed)"""
        event = parse_paypal_event(
            platform().paypal,
            payload=request.get_data(),
            headers=request.headers,
            now=utcnow(),
        )
        return _store("paypal", event["id"], str(event.get("event_type") or ""), event)
