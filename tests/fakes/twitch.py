"""A fake Twitch OAuth server (id.twitch.tv/oauth2): authorization-code exchange and token
validation, with Twitch's error bodies ``{"status": 400, "message": ...}``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import Flask, jsonify, request

CLIENT_ID = "faketwitchclientid"
CLIENT_SECRET = "faketwitchclientsecret"


@dataclass
class FakeTwitch:
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> (id, login, uri)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # access token -> (id, login)

    def reset(self) -> None:
        self.codes.clear()
        self.tokens.clear()

    def authorize(self, user_id: str, login: str, redirect_uri: str) -> str:
        """What the browser brings back after the player approved: a one-time code."""
        code = secrets.token_hex(15)
        self.codes[code] = (user_id, login, redirect_uri)
        return code


def twitch_app(state: FakeTwitch) -> Flask:
    app = Flask("fake_twitch")

    def fail(status: int, message: str):
        response = jsonify({"status": status, "message": message})
        response.status_code = status
        return response

    @app.post("/oauth2/token")
    def token():
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return fail(403, "invalid client secret")
        if form.get("grant_type") != "authorization_code":
            return fail(400, "Invalid grant type")
        grant = state.codes.pop(form.get("code", ""), None)
        if grant is None:
            return fail(400, "Invalid authorization code")
        user_id, login, redirect_uri = grant
        if form.get("redirect_uri") != redirect_uri:
            return fail(400, "Parameter redirect_uri does not match registered URI")
        access = secrets.token_hex(15)
        state.tokens[access] = (user_id, login)
        return jsonify(
            {
                "access_token": access,
                "expires_in": 14400,
                "refresh_token": secrets.token_hex(25),
                "scope": ["user:read:email"],
                "token_type": "bearer",
            }
        )

    @app.get("/oauth2/validate")
    def validate():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        owner = state.tokens.get(token) if scheme == "OAuth" else None
        if owner is None:
            return fail(401, "invalid access token")
        user_id, login = owner
        return jsonify(
            {
                "client_id": CLIENT_ID,
                "login": login,
                "scopes": ["user:read:email"],
                "user_id": user_id,
                "expires_in": 14000,
            }
        )

    return app
