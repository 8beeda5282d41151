"""What a key supplier offers the store, as one interface: a new supplier is one module that
implements ``KeySource``, and fulfilment never knows which supplier it talks to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

PurchaseStatus = Literal["delivered", "pending", "unavailable"]


@dataclass(frozen=True)
class Purchase:
    """The outcome of buying ``quantity`` keys of one SKU.

    ``delivered``: ``codes`` holds the plaintext codes (seal them at once, never log them);
    ``pending``: the supplier accepted the order and will deliver later (``collect`` or its
    webhook); ``unavailable``: no supplier could sell now (``reason`` says why, no money moved).
    """

    status: PurchaseStatus
    supplier: str | None = None
    codes: tuple[str, ...] = ()
    external_order_id: str | None = None
    reason: str | None = None


class KeySource(Protocol):
    def purchase(self, *, sku_id: str, platform: str, quantity: int, order_ref: str) -> Purchase:
        """Buy keys. ``order_ref`` is stable for one order line, so a retry after a timeout or
        a crash is the same supplier order (Kinguin's orderExternalId), never a second one."""
        ...

    def collect(self, *, supplier: str, external_order_id: str) -> Purchase:
        """The keys of an order a supplier answered ``pending`` for, once it has them.

        ``pending`` while it may still deliver (or cannot be asked); ``unavailable`` only once
        it is settled that the supplier holds no such order and took no money (never placed,
        or cancelled): the caller may then buy again under a new ``order_ref``."""
        ...
