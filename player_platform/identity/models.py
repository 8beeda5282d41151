"""Users, their sign-in identities, the history of linking, and refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from player_platform.db import Base, Timestamps, created_at_column, new_id

# A publisher manages its own SKUs and their orders (commerce/publishers.py); a reseller buys
# keys in bulk from its balance (commerce/resellers.py).
ROLES = ("player", "moderator", "admin", "publisher", "reseller")
STAFF_ROLES = frozenset({"moderator", "admin"})


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_created_at", "created_at"),)  # registrations by day

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(default=lambda: ["player"])
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_until: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed by the vault
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Set when this account was merged into another (status "merged") or erased ("deleted").
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    deleted_at: Mapped[datetime | None]
    # The board a regional leaderboard season puts the player on ("eu", "na", ...).
    region: Mapped[str | None] = mapped_column(String(16))
    # Identity verified (KYC) by an admin: orders above PP_KYC_AMOUNT wait for it (fraud.py).
    kyc_verified_at: Mapped[datetime | None]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Identity.linked_at"
    )

    @property
    def email_verified(self) -> bool:
        return any(i.provider == "email" and i.verified_at for i in self.identities)

    @property
    def is_staff(self) -> bool:
        return bool(STAFF_ROLES.intersection(self.roles))

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(255))
    provider_email: Mapped[str | None] = mapped_column(String(255))
    secret_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id, email identities
    credentials: Mapped[str | None] = mapped_column(Text)  # provider tokens, sealed by the vault
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    linked_at: Mapped[datetime] = created_at_column()
    # Email identities: when the owner followed a verification (or reset) link sent there.
    verified_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="identities")


class AccountLink(Base):
    """Append-only history of link, unlink and merge actions."""

    __tablename__ = "account_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    identity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    performed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = created_at_column()


class RefreshToken(Base):
    """One opaque refresh token; tokens rotated from one sign-in share a ``family_id``."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id_revoked_at", "family_id", "revoked_at"),
        Index("ix_refresh_tokens_created_at", "created_at"),  # daily active players
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mfa: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UsedNonce(Base):
    """A one-time value a provider handed us (a Steam OpenID response nonce), kept until it
    could no longer be fresh, so that a replayed assertion is refused."""

    __tablename__ = "used_nonces"
    __table_args__ = (UniqueConstraint("provider", "nonce"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)
