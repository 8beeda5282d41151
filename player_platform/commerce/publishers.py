"""Publishers (seed 000's role): an account with the ``publisher`` role manages only its own
SKUs (``skus.publisher_id``) and the orders of them; the studio's admins see everything.

One helper decides, from the signed-in staff member, which publisher's things a request may
touch (``scope``); the admin catalog and order endpoints pass it on, and ``owned_sku`` answers
404 sku_not_found for another publisher's SKU, as for a SKU that does not exist (so a
publisher learns nothing about another's catalog). Key pools use the same two.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from player_platform.commerce import catalog
from player_platform.commerce.models import Order, OrderItem, Sku
from player_platform.errors import Invalid, NotFound
from player_platform.identity.models import User
from player_platform.identity.sessions import Actor

ROLE = "publisher"


def scope(actor: Actor) -> uuid.UUID | None:
    """The publisher whose things ``actor`` may manage; None for the studio's admins (all)."""
    return None if "admin" in actor.user.roles else actor.user.id


def publisher_account(session: Session, user_id: uuid.UUID) -> uuid.UUID:
    """An account an admin assigns SKUs to: it must hold the publisher role (422)."""
    user = session.get(User, user_id)
    if user is None or ROLE not in user.roles:
        raise Invalid("No publisher account has this id.", code="not_a_publisher")
    return user.id


def owned_sku(session: Session, *, sku_id: str, publisher_id: uuid.UUID | None) -> Sku:
    """The SKU if the scope covers it; 404 sku_not_found otherwise."""
    sku = catalog.get_sku(session, sku_id)
    if publisher_id is not None and sku.publisher_id != publisher_id:
        raise NotFound(f"No SKU {sku_id!r}.", code="sku_not_found")
    return sku


def orders_of(publisher_id: uuid.UUID) -> ColumnElement[bool]:
    """Orders with at least one line of the publisher's SKUs."""
    return Order.id.in_(
        select(OrderItem.order_id)
        .join(Sku, Sku.sku_id == OrderItem.sku_id)
        .where(Sku.publisher_id == publisher_id)
    )
