"""Uploads: declare a file (POST /v1/ugc), PUT it to the presigned URL, then complete."""

from flask.views import MethodView

from blueprints.http import BEARER_AUTH, current_player, origin, platform
from blueprints.ugc import bp
from blueprints.ugc.schemas import UgcCreatedSchema, UgcCreateSchema, UgcItemSchema
from player_platform.db import utcnow
from player_platform.ugc import uploads


@bp.route("")  # GET on the same path lists items (items.py)
class DeclareUpload(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(UgcCreateSchema)
    @bp.response(201, UgcCreatedSchema)
    @bp.alt_response(403, description="quota_exceeded, blocked_file")
    def post(self, body):
        """Declare a file: the draft item and where to PUT the bytes (presigned)"""
        p = platform()
        with p.db.unit_of_work() as session:
            item, upload = uploads.declare(
                session, storage=p.storage, policy=p.ugc_policy, owner_id=current_player().id,
                declaration=uploads.Declaration(**body), now=utcnow(),
            )  # fmt: skip
            return {"ugc": item, "upload": upload}


@bp.route("/<uuid:ugc_id>/complete")
class CompleteUpload(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, UgcItemSchema)
    @bp.alt_response(
        409, description="upload_missing, upload_incomplete, size_mismatch, invalid_transition"
    )
    def post(self, ugc_id):
        """The upload is done: checked (HEAD, size) and handed to the virus scanner"""
        p = platform()
        with p.db.unit_of_work() as session:
            return uploads.complete(
                session, storage=p.storage, jobs=p.jobs, policy=p.ugc_policy,
                owner_id=current_player().id, ugc_id=ugc_id, origin=origin(), now=utcnow(),
            )  # fmt: skip
