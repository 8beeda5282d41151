"""The key store's console pages in real Chromium: an admin imports a file (its upload's
progress shown, then the counts), sees a pool flagged low on stock, revokes a key (audited),
sees each supplier's health; no page ever holds a key's code; moderators are refused."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.keys.models import GameKey
from player_platform.platform import Platform
from tests.console.conftest import sign_in, staff_member
from tests.keys.conftest import seed_game, steam_code
from tests.suppliers.conftest import seed_game as seed_supplied_game
from workers import suppliers as supplier_jobs

# Record what the import form says while it works (Playwright's evaluate is not bound by the
# page's CSP; the console itself runs no inline script).
WATCH_UPLOAD = """() => {
  window.__uploadStates = [];
  const state = document.querySelector("#key-import .upload-state");
  new MutationObserver(() => window.__uploadStates.push(state.textContent))
    .observe(state, {childList: true, characterData: true, subtree: true});
}"""
NOTE = "x" * 6000  # a second CSV column the import ignores: makes the file pass 1 MiB


@pytest.fixture
def settings(settings):
    """New pools alert at 250 keys or fewer, as a studio would set PP_KEYS_LOW_STOCK_THRESHOLD."""
    return dataclasses.replace(settings, keys_low_stock_threshold=250)


def key_file(codes: list[str], *, duplicate: str, invalid: str) -> bytes:
    lines = ["code,note"] + [f"{code},{NOTE}" for code in codes] + [duplicate, invalid]
    return ("\n".join(lines) + "\n").encode()


def audit_rows(platform: Platform, action: str) -> list[AuditLog]:
    with platform.db.unit_of_work() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == action)).all()
        session.expunge_all()
    return list(rows)


def assert_no_code(html: str, codes: list[str]) -> None:
    shown = [code for code in codes if code in html]
    assert shown == [], f"a key's code is on the page: {shown}"


def test_an_admin_imports_keys_sees_low_stock_and_revokes_a_key(live_server, live_platform, pages):
    seed_game(live_platform)  # a Steam game_key SKU
    codes = [steam_code() for _ in range(200)]
    body = key_file(codes, duplicate=codes[0], invalid="NOT-A-KEY")
    assert len(body) > live_platform.settings.max_body_bytes  # the API's usual body limit
    admin = staff_member(live_platform, role="admin", name="Keeper")
    page = pages()
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/moderation/keys")
    assert "No pools yet" in page.inner_text("#inventory")

    page.evaluate(WATCH_UPLOAD)
    page.select_option("#key-import select[name=sku_id]", "game")
    page.set_input_files(
        "#key-import input[name=file]",
        {"name": "keys.csv", "mimeType": "text/csv", "buffer": body},
    )
    page.click("#key-import button[type=submit]")
    page.wait_for_selector("#import-result")
    assert page.url.endswith("/moderation/keys")  # the script sent it: no navigation
    states = page.evaluate("window.__uploadStates")
    assert any(s.startswith("Uploading: ") and "%" in s for s in states), states
    assert "Uploaded: importing…" in states
    counts = {
        name: page.inner_text(f"#import-result .{name}")
        for name in ("imported", "duplicates", "invalid")
    }
    assert counts == {"imported": "200", "duplicates": "1", "invalid": "1"}
    assert "not a steam key format" in page.inner_text("main")
    assert_no_code(page.content(), codes)

    [imported] = audit_rows(live_platform, "keys.import")
    assert imported.actor_id == admin.user_id
    assert imported.new_values["imported"] == 200 and "code" not in str(imported.new_values)

    page.goto(f"{live_server}/moderation/keys")
    row = page.locator("#inventory tr[data-pool='game/steam']")
    assert row.locator(".available").inner_text() == "200"
    assert "Low stock" in row.locator(".stock-state").inner_text()  # 200 <= 250
    assert "low-stock" in row.get_attribute("class")

    listed = page.locator("#keys tbody tr").first
    key_id = uuid.UUID(listed.get_attribute("data-key-id"))
    masked = listed.locator("code").inner_text()
    assert masked.startswith("*****-")
    listed.locator("button:has-text('Revoke')").click()
    assert f"Key {masked} revoked." in page.inner_text(".flash")
    assert page.locator(f"#keys tr[data-key-id='{key_id}'] .key-status").inner_text() == "revoked"
    with live_platform.db.unit_of_work() as session:
        assert session.get(GameKey, key_id).status == "revoked"
    [revoked] = audit_rows(live_platform, "key.revoke")
    assert (revoked.actor_id, revoked.resource_id) == (admin.user_id, str(key_id))
    assert revoked.old_values == {"status": "available"}

    seen = [page.content()]
    for path in (
        "/moderation/keys?status=revoked",
        "/moderation/keys?limit=200",
        "/moderation/audit?action=keys.import",
        "/moderation/audit?action=key.revoke",
    ):
        page.goto(f"{live_server}{path}")
        seen.append(page.content())
    csv = page.request.get(f"{live_server}/moderation/keys?limit=200&format=csv").text()
    assert csv.count("*****-") == 200  # the first page of the list, masked
    page.goto(f"{live_server}/moderation/keys")  # the screenshot left in var/screenshots/
    for html in [*seen, csv, page.content()]:
        assert_no_code(html, codes)


def test_admins_see_each_suppliers_circuit_success_rate_latency_and_last_sync(
    live_server, live_platform, pages, kinguin, codeswholesale
):
    seed_supplied_game(live_platform, ("codeswholesale", "cw-game", 1), ("kinguin", "kg-game", 2))
    codeswholesale.stock("cw-game", price="5.00", quantity=7)
    kinguin.down = True  # its offers cannot be synced
    supplier_jobs.sync_offers()
    breakers = live_platform.suppliers.breakers
    breakers.record("kinguin", ok=True, seconds=0.2, now=time.time())
    breakers.record("kinguin", ok=False, seconds=0.4, now=time.time())

    page = pages()
    sign_in(page, live_server, staff_member(live_platform, role="admin"))
    page.click("nav a:has-text('Suppliers')")
    kinguin_row = page.locator("#suppliers tr[data-supplier='kinguin']")
    assert kinguin_row.locator(".circuit").inner_text() == "closed"
    assert kinguin_row.locator(".success-rate").inner_text() == "50%"
    assert kinguin_row.locator(".latency").inner_text() == "300 ms"
    assert kinguin_row.locator(".last-sync").inner_text() == "never"
    wholesale = page.locator("#suppliers tr[data-supplier='codeswholesale']")
    assert wholesale.locator(".success-rate").inner_text() == "no calls"
    assert wholesale.locator(".last-sync").inner_text() != "never"


def test_moderators_are_refused_the_key_store_pages_and_actions(live_server, live_platform, pages):
    seed_game(live_platform)
    admin = staff_member(live_platform, role="admin")
    admin_page = pages()
    sign_in(admin_page, live_server, admin)
    admin_page.goto(f"{live_server}/moderation/keys")
    admin_page.set_input_files(
        "#key-import input[name=file]",
        {"name": "keys.jsonl", "mimeType": "application/x-ndjson",
         "buffer": f'{{"code": "{steam_code()}"}}\n'.encode()},
    )  # fmt: skip
    admin_page.click("#key-import button[type=submit]")
    admin_page.wait_for_selector("#import-result")
    with live_platform.db.unit_of_work() as session:
        key_id = session.scalars(select(GameKey.id)).one()

    page = pages()
    sign_in(page, live_server, staff_member(live_platform, role="moderator"))
    nav = page.inner_text("nav")
    assert "Keys" not in nav and "Suppliers" not in nav and "Held orders" not in nav
    for path in ("keys", "suppliers", "held-orders"):
        answer = page.goto(f"{live_server}/moderation/{path}")
        assert answer.status == 403, path
        assert "needs the admin role" in page.inner_text("main")
    page.goto(f"{live_server}/moderation/dashboard")
    token = page.get_attribute("input[name=csrf_token]", "value")
    revoke = page.request.post(
        f"{live_server}/moderation/keys/{key_id}/revoke", form={"csrf_token": token}
    )
    upload = page.request.post(
        f"{live_server}/moderation/keys/import",
        multipart={
            "csrf_token": token,
            "sku_id": "game",
            "file": {"name": "k.csv", "mimeType": "text/csv", "buffer": b"AAAAA-BBBBB-CCCCC\n"},
        },
    )
    approve = page.request.post(
        f"{live_server}/moderation/held-orders/{uuid.uuid4()}/approve",
        form={"csrf_token": token, "reason": "mine"},
    )
    assert (revoke.status, upload.status, approve.status) == (403, 403, 403)
    large = page.request.post(
        f"{live_server}/moderation/keys/import",
        multipart={
            "csrf_token": token,
            "sku_id": "game",
            "file": {"name": "k.csv", "mimeType": "text/csv", "buffer": b"A" * (2 << 20)},
        },
    )
    assert large.status == 413  # only an admin's upload may pass the app's body limit
    with live_platform.db.unit_of_work() as session:
        assert session.scalars(select(GameKey.status)).all() == ["available"]
    assert audit_rows(live_platform, "key.revoke") == []
    assert len(audit_rows(live_platform, "keys.import")) == 1  # the admin's
