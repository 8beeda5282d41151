import time

from flask.views import MethodView

from blueprints.admin import bp
from blueprints.admin.schemas import SupplierHealthListSchema
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, platform, staff


@bp.route("/suppliers")
class SupplierCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, SupplierHealthListSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self):
        """Key suppliers configured here: circuit breaker state, success rate and mean latency
        over their last calls, when their offers were last synced (admin)"""
        p = platform()
        with p.db.unit_of_work():
            staff("admin")
        return {"items": p.suppliers.health(now=time.time())}
