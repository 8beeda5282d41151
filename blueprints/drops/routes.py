from flask.views import MethodView

from blueprints.drops import bp
from blueprints.drops.schemas import (
    AdminCampaignSchema,
    CampaignCreateSchema,
    CampaignListSchema,
    CampaignUpdateSchema,
    DropPageSchema,
    DropQuerySchema,
)
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, current_player, origin, platform, staff
from player_platform.db import utcnow
from player_platform.drops import campaigns, service

CAMPAIGN_ERRORS = (
    "invalid_window, cap_below_granted, reward_not_grantable, organization_required, sku_not_found"
)


def _subscribe(campaign):
    """Create the subscription the admin asked for, after the campaign committed."""
    p = platform()
    campaigns.subscribe(
        p.db,
        helix=p.helix,
        campaign_id=campaign.id,
        callback=f"{p.settings.public_url.rstrip('/')}/v1/webhooks/twitch",
        secret=p.settings.twitch_eventsub_secret,
    )
    with p.db.unit_of_work() as session:
        return campaigns.get(session, campaign.id)


@bp.route("/campaigns")
class CampaignCollection(MethodView):
    @bp.response(200, CampaignListSchema)
    def get(self):
        """The drops campaigns running now"""
        with platform().db.unit_of_work() as session:
            return {"items": campaigns.active(session, now=utcnow()), "next_cursor": None}


@bp.route("/admin/campaigns")
class AdminCampaignCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(CampaignCreateSchema)
    @bp.response(201, AdminCampaignSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    @bp.alt_response(422, description=CAMPAIGN_ERRORS)
    def post(self, body):
        """Create a drops campaign, and its EventSub subscription if asked (admin, audited)"""
        subscribe = body.pop("create_subscription")
        with platform().db.unit_of_work() as session:
            actor = staff("admin")
            campaign = campaigns.create(
                session,
                fields=body,
                subscribe=subscribe,
                actor_id=actor.id,
                origin=origin(),
                now=utcnow(),
            )
        return _subscribe(campaign)


@bp.route("/admin/campaigns/<uuid:campaign_id>")
class AdminCampaignItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(CampaignUpdateSchema)
    @bp.response(200, AdminCampaignSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="campaign_not_found, sku_not_found")
    @bp.alt_response(422, description=CAMPAIGN_ERRORS)
    def patch(self, body, campaign_id):
        """Change a campaign; `create_subscription` asks again for a failed or revoked
        subscription (admin, audited)"""
        subscribe = body.pop("create_subscription")
        with platform().db.unit_of_work() as session:
            actor = staff("admin")
            campaign = campaigns.update(
                session,
                campaign_id=campaign_id,
                changes=body,
                subscribe=subscribe,
                actor_id=actor.id,
                origin=origin(),
                now=utcnow(),
            )
        return _subscribe(campaign)


@bp.route("/me/drops")
class MyDrops(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(DropQuerySchema, location="query")
    @bp.response(200, DropPageSchema)
    def get(self, query):
        """The drops granted to the caller, newest first"""
        with platform().db.unit_of_work() as session:
            return service.list_drops(session, user_id=current_player().id, **query)
