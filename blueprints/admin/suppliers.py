import time

from flask.views import MethodView

from blueprints.admin import bp
from blueprints.admin.schemas import SupplierHealthListSchema, SupplierRoutesSchema
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, origin, platform, staff
from player_platform.commerce import catalog
from player_platform.suppliers import offers


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


@bp.route("/skus/<sku_id>/suppliers")
class SkuSupplierRoutes(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, SupplierRoutesSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    def get(self, sku_id):
        """Which supplier products stand for this SKU, per platform, in the order asked (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            catalog.get_sku(session, sku_id)
            return {"routes": offers.routes_of(session, sku_id)}

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SupplierRoutesSchema)
    @bp.response(200, SupplierRoutesSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    def put(self, body, sku_id):
        """Replace the SKU's supplier products (admin, audited); lower priority is asked first"""
        with platform().db.unit_of_work() as session:
            actor = staff("admin")
            catalog.get_sku(session, sku_id)
            routes = offers.replace_routes(
                session, sku_id=sku_id, routes=body["routes"], actor_id=actor.id, origin=origin()
            )
            return {"routes": routes}
