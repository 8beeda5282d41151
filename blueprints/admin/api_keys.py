from flask.views import MethodView

from blueprints.admin import bp
from blueprints.admin.schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyPageSchema,
    ApiKeySchema,
    PageQuerySchema,
)
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from player_platform.db import utcnow
from player_platform.security import api_keys


@bp.route("/api-keys")
class ApiKeyCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(ApiKeyCreateSchema)
    @bp.response(201, ApiKeyCreatedSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def post(self, body):
        """Create a server API key; the key is in this answer only (admin)"""
        with platform().db.unit_of_work() as session:
            return api_keys.create_key(
                session, actor_id=staff("admin").id, origin=origin(), now=utcnow(), **body
            )

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(PageQuerySchema, location="query")
    @bp.response(200, ApiKeyPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """Server API keys, newest first, never the keys themselves (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return api_keys.list_keys(session, **query)


@bp.route("/api-keys/<uuid:key_id>")
class ApiKeyItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ApiKeySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="api_key_not_found")
    def get(self, key_id):
        """One server API key (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return api_keys.get_key(session, key_id=key_id)

    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ApiKeySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="api_key_not_found")
    def delete(self, key_id):
        """Revoke a server API key at once (admin)"""
        with platform().db.unit_of_work() as session:
            return api_keys.revoke_key(
                session, actor_id=staff("admin").id, key_id=key_id, origin=origin(), now=utcnow()
            )
