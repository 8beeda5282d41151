"""Bulk import: formats per platform, duplicates refused by the keyed hash (within the file,
against the warehouse, against keys already sold), invalid lines reported, audited without
codes; codes sealed at rest and never in lists or logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import requests
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.keys.models import GameKey
from player_platform.security.vault import Vault
from tests.keys.conftest import GAME, buy, drain, import_csv, seed_game, steam_code
from tests.support import bearer, signed_up, staff_tokens


def test_valid_codes_are_imported_sealed_and_the_rest_reported_by_line(
    client, admin, platform, caplog
):
    seed_game(platform)
    good = [steam_code(), steam_code(5), steam_code().lower()]
    bad = ["ABCDE-12345", "ABCDE-12345-!!!!!-XXXXX", ""]
    caplog.set_level(logging.DEBUG)
    result = import_csv(client, admin, [good[0], bad[0], good[1], bad[1], good[2], good[0]])
    assert result["imported"] == 3
    assert result["duplicates"] == 1  # good[0] twice in one file
    assert result["invalid"] == [
        {"line": 3, "reason": "not a steam key format"},
        {"line": 5, "reason": "not a steam key format"},
    ]
    assert result["invalid_total"] == 2 and result["invalid_truncated"] is False
    assert bad[2] == ""

    with platform.db.unit_of_work() as session:
        keys = session.scalars(select(GameKey)).all()
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "keys.import")).one()
    stored = " ".join(k.sealed_code + k.code_hash for k in keys)
    listed = client.get("/v1/admin/keys?sku_id=game&status=available", headers=admin).get_json()
    exposed = [stored, json.dumps(listed), json.dumps(audit.new_values), caplog.text]
    for code in good:
        for where in exposed:
            assert code.upper() not in where and code not in where
    assert {k["masked_code"] for k in listed["items"]} == {f"*****-{c.upper()[-5:]}" for c in good}
    assert audit.new_values["imported"] == 3 and audit.new_values["sku_id"] == "game"
    # The lower-case copy of a Steam code is the same code: one key.
    again = import_csv(client, admin, [good[2].upper(), steam_code()])
    assert (again["imported"], again["duplicates"]) == (1, 1)


def test_a_code_already_sold_is_refused_as_a_duplicate(client, admin, platform, stripe):
    seed_game(platform)
    code = steam_code()
    import_csv(client, admin, [code])
    shown = client.get("/v1/skus/game").get_json()
    assert (shown["stock"], shown["available"]) == ("in_stock", 1)
    headers = bearer(signed_up(platform)["access_token"])
    buy(client, stripe, headers)
    drain(platform)
    assert client.get("/v1/me/keys", headers=headers).get_json()["items"][0]["status"] == (
        "delivered"
    )
    [listed] = client.get("/v1/skus?type=game_key").get_json()["items"]
    assert (listed["stock"], listed["available"]) == ("sold_out", 0)
    again = import_csv(client, admin, [code, steam_code()])
    assert (again["imported"], again["duplicates"]) == (1, 1)


def test_json_lines_and_configured_formats_for_other_platforms(client, admin, platform):
    seed_game(platform, platforms=["epic"])
    lines = [
        json.dumps({"code": "EPIC1-EPIC2-EPIC3-EPIC4"}),
        json.dumps({"code": "steam-like!"}),
        "not json",
        json.dumps({"key": "X"}),
    ]
    response = client.post(
        "/v1/admin/keys/bulk-import?sku_id=game",
        data="\n".join(lines),
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    result = response.get_json()
    assert result["imported"] == 1
    assert [i["line"] for i in result["invalid"]] == [2, 3, 4]
    inventory = client.get("/v1/admin/inventory", headers=admin).get_json()["items"]
    assert [(p["sku_id"], p["platform"], p["available"]) for p in inventory] == [
        ("game", "epic", 1)
    ]


def test_import_refuses_what_is_not_a_game_key_pool(client, admin, platform):
    seed_game(platform)
    with platform.db.unit_of_work() as session:
        from tests import factories

        factories.sku(session, sku_id="sword", type="durable", name="Sword", prices={"USD": 1})
    headers = {**admin, "Content-Type": "text/csv"}
    cases = {
        "/v1/admin/keys/bulk-import?sku_id=sword": (422, "not_a_game_key"),
        "/v1/admin/keys/bulk-import?sku_id=nope": (404, "sku_not_found"),
        "/v1/admin/keys/bulk-import?sku_id=game&platform=xbox": (422, "validation_error"),
    }
    for url, (status, code) in cases.items():
        response = client.post(url, data=b"code\n", headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (status, code), url
    wrong_type = client.post(
        "/v1/admin/keys/bulk-import?sku_id=game", json={"code": "x"}, headers=admin
    )
    assert wrong_type.status_code == 415
    player = bearer(signed_up(platform)["access_token"])
    assert (
        client.post(
            "/v1/admin/keys/bulk-import?sku_id=game", data=b"x", headers={**headers, **player}
        ).status_code
        == 403
    )


def test_a_big_file_streams_through_the_live_server(live_server, live_platform):
    seed_game(live_platform)
    admin = bearer(staff_tokens(live_platform, role="admin")["access_token"])
    count = 80_000  # 1.4 MB, past PP_MAX_BODY_BYTES

    def body():
        yield b"code\n"
        for i in range(count):
            yield f"{i:05d}-BULKA-BULKB\n".encode()

    response = requests.post(
        f"{live_server}/v1/admin/keys/bulk-import?sku_id=game",
        data=body(),  # chunked: no Content-Length, larger than PP_MAX_BODY_BYTES
        headers={**admin, "Content-Type": "text/csv"},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == count
    with live_platform.db.unit_of_work() as session:
        assert len(session.scalars(select(GameKey.id)).all()) == count


def test_the_cli_imports_a_file_with_a_progress_bar(tmp_path, live_platform, settings):
    seed_game(live_platform)
    codes = [steam_code() for _ in range(50)]
    path = tmp_path / "keys.csv"
    path.write_text("\n".join([*codes, codes[0], "bad"]) + "\n")
    env = {
        **os.environ,
        "PP_ENV": "test",
        "PP_DATABASE_URL": settings.database_url,
        "PP_REDIS_URL": settings.redis_url,
        "PP_SECRET_KEY": settings.secret_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "player_platform", "keys", "import", str(path), "--sku", "game"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "imported 50, duplicates 1, invalid 1" in done.stdout
    assert "line 52: not a steam key format" in done.stdout
    assert "%" in done.stderr  # tqdm's bar
    with live_platform.db.unit_of_work() as session:
        assert len(session.scalars(select(GameKey.id)).all()) == 50


def test_the_keyed_hash_survives_a_vault_rotation():
    old = Vault("a:" + "A" * 43 + "=", hash_secret="pepper")
    new = Vault("b:" + "B" * 43 + "=,a:" + "A" * 43 + "=", hash_secret="pepper")
    assert old.keyed_hash("code") == new.keyed_hash("code")
    assert GAME["type"] == "game_key"
