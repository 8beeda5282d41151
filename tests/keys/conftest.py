"""Key-store fixtures: a game_key SKU, codes that pass Steam's format, a Stripe purchase paid
and verified, and the fulfilment and notice queues drained by real RQ workers."""

from __future__ import annotations

import itertools
import secrets
import string

import pytest
from rq import SimpleWorker

from player_platform.config import Settings
from player_platform.platform import Platform
from tests import factories
from tests.conftest import make_settings

GAME = {
    "sku_id": "game",
    "type": "game_key",
    "name": "The Game (Steam key)",
    "prices": {"USD": 1999},
    "platforms": ["steam"],
}
_ALPHABET = string.ascii_uppercase + string.digits
_serial = itertools.count(1)


def steam_code(groups: int = 3) -> str:
    """A fresh, well-formed Steam code (random groups, unique within the test run)."""
    serial = f"{next(_serial):05d}"[-5:]
    parts = ["".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(groups - 1)]
    return "-".join([*parts, serial])


def seed_game(platform: Platform, **values) -> None:
    with platform.db.unit_of_work() as session:
        factories.sku(session, **{**GAME, **values})


def import_csv(client, admin, codes: list[str], sku_id: str = "game", **query) -> dict:
    body = "code\n" + "\n".join(codes) + "\n"
    params = "&".join(f"{k}={v}" for k, v in {"sku_id": sku_id, **query}.items())
    response = client.post(
        f"/v1/admin/keys/bulk-import?{params}",
        data=body.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def buy(client, stripe, headers, sku_id: str = "game", quantity: int = 1) -> str:
    """Check out with Stripe, pay, verify: the order id (fulfilled, its key job queued)."""
    bought = client.post(
        "/v1/checkout",
        json={"items": [{"sku_id": sku_id, "quantity": quantity}], "currency": "USD"},
        headers=headers,
    )
    assert bought.status_code == 201, bought.get_json()
    intent_id = bought.get_json()["payment"]["payment_intent_id"]
    stripe.succeed(intent_id)
    verified = client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "stripe", "payment_intent_id": intent_id},
        headers=headers,
    )
    assert verified.status_code == 200, verified.get_json()
    return bought.get_json()["order"]["id"]


def drain(platform: Platform, *queues: str) -> None:
    names = queues or ("fulfilment", "notification_send")
    for name in names:
        SimpleWorker([platform.jobs.queue(name)], connection=platform.jobs.redis).work(burst=True)


@pytest.fixture
def settings(database_url, redis_url, redis, tmp_path, fake_servers, smtp_server) -> Settings:
    """The suite's settings, mailing to the loopback SMTP server."""
    return make_settings(
        database_url, redis_url, tmp_path, smtp_url=smtp_server[0], **fake_servers["settings"]
    )
