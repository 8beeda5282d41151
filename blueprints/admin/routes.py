from flask.views import MethodView

from blueprints.admin import bp
from blueprints.admin.schemas import AuditLogPageSchema, AuditLogQuerySchema
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, platform, staff
from player_platform.audit import service as audit


@bp.route("/audit-logs")
class AuditLogCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AuditLogQuerySchema, location="query")
    @bp.response(200, AuditLogPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """The audit log, newest first (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return audit.list_entries(session, **query)
