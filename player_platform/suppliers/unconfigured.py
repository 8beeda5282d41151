"""The key source of a store without suppliers: it never sells, so a pool that runs dry
backorders (no stand-in logic: the adapters replace it in ``Platform.suppliers``)."""

from __future__ import annotations

from player_platform.suppliers.base import Purchase

REASON = "no supplier configured"


class NoSupplier:
    def purchase(self, *, sku_id: str, platform: str, quantity: int, order_ref: str) -> Purchase:
        return Purchase(status="unavailable", reason=REASON)

    def collect(self, *, supplier: str, external_order_id: str) -> Purchase:
        return Purchase(status="unavailable", supplier=supplier, reason=REASON)
