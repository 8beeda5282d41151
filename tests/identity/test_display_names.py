"""Display names are shown on public boards: no character may let one player pass for another
(bidirectional overrides, zero-width and other invisible characters), whoever sets the name."""

from __future__ import annotations

import pytest

from tests.identity.test_steam import ALICE, steam_sign_in
from tests.support import bearer, register

REFUSED = {
    "right-to-left override": "\u202eadA",
    "left-to-right isolate": "Ada\u2066",
    "zero-width space": "A\u200bda",
    "zero-width joiner": "Ad\u200da",
    "byte order mark": "\ufeffAda",
    "soft hyphen": "Ad\u00ada",
    "control character": "Ada\u0007",
    "tab inside": "A\tda",
    "line separator": "Ada\u2028Bob",
    "private use": "Ada\ue000",
    "unassigned": "Ada\U000e0080",
    "only spaces": "   ",
    "empty once normalised": "\u3000",
    "too long once normalised": "\ufdfa" * 4,  # one character, 18 after NFKC
}
NORMALISED = {
    "  Ada  ": "Ada",
    "\uff21\uff44\uff41": "Ada",  # fullwidth
    "\ufb01nn": "finn",  # ligature
    "Zoë": "Zoë",
    "李小龍": "李小龍",
    "Ada 🚀": "Ada 🚀",
}


def _register(client, display_name: str):
    return client.post(
        "/v1/auth/register",
        json={
            "email": "someone@example.com",
            "password": "correct horse battery staple",
            "display_name": display_name,
        },
    )


@pytest.mark.parametrize("kind", REFUSED)
def test_register_and_profile_refuse_invisible_and_control_characters_with_422(client, kind):
    name = REFUSED[kind]
    for response in (
        _register(client, name),
        client.patch(
            "/v1/me",
            json={"display_name": name},
            headers=bearer(register(client, display_name="Ada")["access_token"]),
        ),
    ):
        assert response.status_code == 422, (kind, response.get_json())
        body = response.get_json()
        assert body["code"] == "validation_error"
        assert "display_name" in body["errors"], body


@pytest.mark.parametrize(("sent", "kept"), NORMALISED.items())
def test_names_are_normalised_nfkc_and_trimmed(client, sent, kept):
    tokens = register(client, display_name=sent)
    assert tokens["user"]["display_name"] == kept
    headers = bearer(tokens["access_token"])
    patched = client.patch("/v1/me", json={"display_name": f" {sent}\u00a0"}, headers=headers)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["display_name"] == kept


@pytest.mark.parametrize(
    ("persona", "kept"),
    [("\u202eecilA\u200b ", "ecilA"), ("\u200b\u200b", "Player")],  # nothing visible: fallback
)
def test_a_steam_persona_name_is_cleaned_not_trusted(client, steam, persona, kept):
    steam.owners.add(ALICE)
    steam.profiles[ALICE] = {"personaname": persona, "avatarfull": ""}
    signed_in = steam_sign_in(client, steam.add_ticket(ALICE))
    assert signed_in.status_code == 200, signed_in.get_json()
    assert signed_in.get_json()["user"]["display_name"] == kept
