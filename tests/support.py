"""Small helpers the tests share: sign-up and sign-in through the API (for tests of those
routes), players and staff made in the database (for every other test), TOTP, headers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta

import pyotp

from player_platform.db import utcnow
from tests import factories
from tests.factories import PASSWORD


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


def enrol(client, access_token: str) -> str:
    enrolment = client.post("/v1/me/mfa/totp", headers=bearer(access_token))
    assert enrolment.status_code == 201
    body = enrolment.get_json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    confirm = client.post(
        "/v1/me/mfa/totp/verify",
        json={"otp": pyotp.TOTP(body["secret"]).now()},
        headers=bearer(access_token),
    )
    assert confirm.status_code == 200
    assert confirm.get_json()["mfa_enabled"] is True
    return body["secret"]


def code_at(secret: str, step_offset: int) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * step_offset))


def signed_up(platform, **player) -> dict:
    """A player made in the database and signed in (``factories.player``), committed, in the
    shape ``register`` answers with: fast, for tests whose subject is not sign-up."""
    with platform.db.unit_of_work() as session:
        return factories.player(session, platform, **player).as_response()


def staff_tokens(platform, *, role: str = "moderator") -> dict:
    """A staff member (``role``) signed in with a TOTP code, so their token carries the rights."""
    with platform.db.unit_of_work() as session:
        return factories.staff(session, platform, role=role).as_response()


def create_api_key(client, admin, scopes=("leaderboards:write",)) -> dict:
    """A server API key made through the admin API: ``{"id", "key", ...}`` (key shown once)."""
    response = client.post(
        "/v1/admin/api-keys", json={"name": "game server", "scopes": list(scopes)}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def worker_process(settings, *queues: str, **env: str) -> subprocess.Popen:
    """A real `python -m workers <queues> --no-scheduler` on the test's database and Redis, in a
    session of its own so that ``kill_worker`` reaches RQ's work horse (a forked child) too."""
    environment = {
        **os.environ,
        "PP_ENV": "test",
        "PP_DATABASE_URL": settings.database_url,
        "PP_REDIS_URL": settings.redis_url,
        "PP_SECRET_KEY": settings.secret_key,
        "PP_JOBS_INLINE": "false",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workers", *queues, "--no-scheduler"],
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse, as a crash would; nothing is left running."""
    with contextlib.suppress(ProcessLookupError):  # the horse may outlive its worker
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
