"""Small helpers the tests share: sign-up and sign-in through the API, auth headers."""

from __future__ import annotations

import uuid

PASSWORD = "correct horse battery staple"


def register(
    client, *, email: str | None = None, password: str = PASSWORD, display_name: str = "Player One"
) -> dict:
    email = email or f"player-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post(
        "/v1/auth/register",
        json={"email": email, "password": password, "display_name": display_name},
    )
    assert response.status_code == 201, response.get_json()
    return {**response.get_json(), "email": email}


def login(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/v1/auth/login", json={"email": email, "password": password, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
