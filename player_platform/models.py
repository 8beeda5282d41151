"""Every domain's models, imported once so that Base.metadata is complete (Alembic, tests)."""

from player_platform.audit.models import AuditLog
from player_platform.db import Base
from player_platform.idempotency.models import IdempotencyRecord
from player_platform.identity.models import AccountLink, Identity, RefreshToken, UsedNonce, User
from player_platform.webhooks.models import WebhookEvent

__all__ = [
    "AccountLink",
    "AuditLog",
    "Base",
    "IdempotencyRecord",
    "Identity",
    "RefreshToken",
    "UsedNonce",
    "User",
    "WebhookEvent",
]
