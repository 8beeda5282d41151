"""A mod's page lists the members of its zip (escaped, the first ones), read from storage."""

from __future__ import annotations

from player_platform.ugc.models import UgcItem
from player_platform.ugc.previews import LISTING_MAX_MEMBERS
from tests.console.conftest import sign_in, staff_member
from tests.storage.test_ranged_previews import zip_of
from tests.ugc.factories import make_item, make_user

HOSTILE_NAME = 'maps/<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>.lua'


def archive_item(platform, data: bytes, *, type: str = "mod") -> str:
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        item_id = make_item(
            session, owner_id=owner, status="pending_review", type=type, name=f"A {type}",
            storage=platform.storage, data=data,
        )  # fmt: skip
        item = session.get(UgcItem, item_id)
        item.content_type, item.filename = "application/zip", "pack.zip"
    return str(item_id)


def test_a_mods_page_lists_its_first_zip_members_as_text(live_server, live_platform, pages):
    members = {HOSTILE_NAME: b"print('hi')"}
    members |= {f"textures/{n:04d}.png": b"" for n in range(LISTING_MAX_MEMBERS + 20)}
    mod = archive_item(live_platform, zip_of(members))
    broken = archive_item(live_platform, b"PK\x03\x04 not really", type="map")
    page = pages()
    sign_in(page, live_server, staff_member(live_platform))
    page.goto(f"{live_server}/moderation/ugc/{mod}")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img[src=x]").count() == 0 and page.locator("main script").count() == 0
    count = LISTING_MAX_MEMBERS + 21
    assert page.inner_text("#archive-count") == (
        f"{count} members, the first {LISTING_MAX_MEMBERS} shown."
    )
    rows = page.locator("#archive-members tbody tr")
    assert rows.count() == LISTING_MAX_MEMBERS
    assert rows.first.inner_text().startswith(HOSTILE_NAME)
    assert "textures/0000.png" in page.inner_text("#archive-members")
    assert f"textures/{LISTING_MAX_MEMBERS - 2:04d}.png" in page.inner_text("#archive-members")
    assert f"textures/{LISTING_MAX_MEMBERS - 1:04d}.png" not in page.inner_text("#archive-members")

    page.goto(f"{live_server}/moderation/ugc/{broken}")
    assert "Not a readable zip archive" in page.inner_text("#archive-problem")
