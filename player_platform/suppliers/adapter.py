"""The interface each supplier's module implements (kinguin.py, codeswholesale.py): a third
supplier is one more module like them, listed in ``chain.build_adapters``.

An adapter speaks one supplier's wire protocol and nothing else: it knows no pool, no breaker
and no other supplier. It says what happened in the supplier's terms mapped to ours:

- ``SupplierOrder``: what the supplier holds for one of our order references;
- ``Refused``: the supplier answered and took no money (out of stock, price changed, balance);
- ``Uncertain``: a buy that may have gone through (a timeout or a 5xx on a call that is not
  idempotent): the caller must look the order up before buying anywhere else;
- ``ProviderUnavailable`` (outbound.py): a call that surely changed nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

OrderState = Literal["processing", "completed", "failed"]


@dataclass(frozen=True)
class Offer:
    """A supplier's current price (EUR, for one key) and stock of one of its products."""

    product_id: str
    price: Decimal
    quantity: int


@dataclass(frozen=True)
class SupplierOrder:
    external_order_id: str
    state: OrderState
    codes: tuple[str, ...] = ()


class Refused(Exception):
    """The supplier said no and kept no money; ``reason`` is safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Uncertain(Exception):
    """A buy whose outcome is unknown: it may have been taken (never buy elsewhere blindly)."""


class Adapter(Protocol):
    name: str

    def offers(self, product_ids: list[str]) -> Iterator[Offer]:
        """Current offers of these products, fetched in the supplier's batch size."""
        ...

    def place_order(
        self, *, product_id: str, quantity: int, unit_price: Decimal, order_ref: str
    ) -> SupplierOrder:
        """Buy ``quantity`` keys at no more than ``unit_price``, tagged with our ``order_ref``."""
        ...

    def find_order(self, order_ref: str) -> SupplierOrder | None:
        """The order we placed under ``order_ref``, or None when the supplier has none."""
        ...

    def fetch_order(self, external_order_id: str) -> SupplierOrder:
        """The order (with its codes once delivered) by the supplier's own id."""
        ...
