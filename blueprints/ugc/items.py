"""Players and UGC items: list, read, edit, delete, download, rate, report, appeal.
(Uploads, POST /v1/ugc and /complete, are in uploads.py.)"""

from flask.views import MethodView

from blueprints.http import BEARER_AUTH, current_player, optional_player, origin, platform
from blueprints.ugc import NOT_FOUND, bp, hot_lists
from blueprints.ugc.schemas import (
    AppealCreateSchema,
    AppealSchema,
    DownloadSchema,
    RatingSchema,
    ReportCreateSchema,
    ReportSchema,
    UgcItemPageSchema,
    UgcItemSchema,
    UgcListQuerySchema,
    UgcUpdateSchema,
)
from player_platform.db import utcnow
from player_platform.ugc import items, listing, reports


@bp.route("")
class UgcListing(MethodView):
    @bp.arguments(UgcListQuerySchema, location="query")
    @bp.response(200, UgcItemPageSchema)
    @bp.alt_response(422, description="validation_error, invalid_cursor")
    def get(self, query):
        """Published public items: filter by type, tag, text, creator; sort recent, top,
        downloads"""
        limit, cursor = query.pop("limit"), query.pop("cursor")
        with platform().db.replica_session() as session:
            return listing.list_public(
                session, hot_lists(), filters=listing.Filters(**query), limit=limit, cursor=cursor
            )


@bp.route("/<uuid:ugc_id>")
class UgcItem(MethodView):
    @bp.doc(security=[{}, *BEARER_AUTH])
    @bp.response(200, UgcItemSchema)
    @bp.alt_response(404, description=NOT_FOUND)
    def get(self, ugc_id):
        """One item: published ones for anyone (unlisted by id), your own in any status"""
        with platform().db.unit_of_work() as session:
            viewer = optional_player()
            return items.get_item(session, ugc_id=ugc_id, viewer_id=viewer and viewer.id)

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(UgcUpdateSchema)
    @bp.response(200, UgcItemSchema)
    @bp.alt_response(403, description="not_owner")
    @bp.alt_response(404, description=NOT_FOUND)
    def patch(self, body, ugc_id):
        """Edit your item's name, description, tags or visibility"""
        with platform().db.unit_of_work() as session:
            return items.update_item(
                session, hot=hot_lists(), ugc_id=ugc_id, owner_id=current_player().id,
                changes=body, origin=origin(), now=utcnow(),
            )  # fmt: skip

    @bp.doc(security=BEARER_AUTH)
    @bp.response(204)
    @bp.alt_response(403, description="not_owner")
    @bp.alt_response(404, description=NOT_FOUND)
    def delete(self, ugc_id):
        """Delete your item; its file is deleted from storage right after"""
        p = platform()
        with p.db.unit_of_work() as session:
            items.delete_item(
                session, jobs=p.jobs, hot=hot_lists(), ugc_id=ugc_id,
                owner_id=current_player().id, origin=origin(), now=utcnow(),
            )  # fmt: skip


@bp.route("/<uuid:ugc_id>/download")
class UgcDownload(MethodView):
    @bp.doc(security=[{}, *BEARER_AUTH])
    @bp.response(200, DownloadSchema)
    @bp.alt_response(404, description=NOT_FOUND)
    @bp.alt_response(409, description="not_published")
    def get(self, ugc_id):
        """A short-lived download URL; a signed-in player's download counts once a day"""
        p = platform()
        with p.db.unit_of_work() as session:
            viewer = optional_player()
            return items.download(
                session, storage=p.storage, ugc_id=ugc_id, viewer_id=viewer and viewer.id,
                now=utcnow(),
            )  # fmt: skip


@bp.route("/<uuid:ugc_id>/ratings")
class UgcRatings(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(RatingSchema)
    @bp.response(200, UgcItemSchema)
    @bp.alt_response(403, description="own_item")
    @bp.alt_response(404, description=NOT_FOUND)
    @bp.alt_response(409, description="not_published")
    def post(self, body, ugc_id):
        """Rate an item 1 to 5; rating again replaces your rating"""
        with platform().db.unit_of_work() as session:
            return items.rate(
                session, ugc_id=ugc_id, user_id=current_player().id, value=body["value"],
                now=utcnow(),
            )  # fmt: skip


@bp.route("/<uuid:ugc_id>/reports")
class UgcReports(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(ReportCreateSchema)
    @bp.response(201, ReportSchema)
    @bp.alt_response(403, description="own_item")
    @bp.alt_response(404, description=NOT_FOUND)
    @bp.alt_response(409, description="already_reported, not_published")
    def post(self, body, ugc_id):
        """Report an item; enough players reporting it hide it until a moderator decides"""
        p = platform()
        with p.db.unit_of_work() as session:
            return reports.report(
                session, jobs=p.jobs, hot=hot_lists(), ugc_id=ugc_id,
                reporter_id=current_player().id, threshold=p.settings.ugc_report_threshold,
                origin=origin(), now=utcnow(), **body,
            )  # fmt: skip


@bp.route("/<uuid:ugc_id>/appeals")
class UgcAppeals(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AppealCreateSchema)
    @bp.response(201, AppealSchema)
    @bp.alt_response(404, description=NOT_FOUND)
    @bp.alt_response(409, description="already_appealed, not_removed, not_appealable")
    def post(self, body, ugc_id):
        """Appeal the removal of your item, once"""
        with platform().db.unit_of_work() as session:
            return reports.appeal(
                session, ugc_id=ugc_id, owner_id=current_player().id, message=body["message"],
                now=utcnow(),
            )  # fmt: skip
