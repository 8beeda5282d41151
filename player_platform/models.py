"""Every domain's models, imported once so that Base.metadata is complete (Alembic, tests)."""

from player_platform.audit.models import AuditLog
from player_platform.commerce.models import (
    Order,
    OrderItem,
    ProviderCursor,
    RefundRequest,
    Sku,
)
from player_platform.commerce.storefront_models import (
    Invoice,
    InvoiceCounter,
    WishlistAlert,
    WishlistItem,
)
from player_platform.db import Base
from player_platform.drops.models import Drop, DropCampaign, DropPlayerCount
from player_platform.feedback.models import Feedback, FeedbackAttachment
from player_platform.idempotency.models import IdempotencyRecord
from player_platform.identity.models import AccountLink, Identity, RefreshToken, UsedNonce, User
from player_platform.keys.models import GameKey, KeyLine, KeyPool
from player_platform.leaderboards.models import (
    LeaderboardEntry,
    Season,
    SeasonReward,
    SeasonStanding,
)
from player_platform.mail.models import EmailToken, Mail
from player_platform.messaging.models import Message, MessageRecipient
from player_platform.security.models import ApiKey
from player_platform.studiohooks.models import StudioDelivery, StudioEndpoint, StudioEvent
from player_platform.suppliers.models import SupplierOffer, SupplierOrderRecord, SupplierProduct
from player_platform.ugc.models import (
    BlockedHash,
    UgcAppeal,
    UgcDownload,
    UgcItem,
    UgcRating,
    UgcReport,
    UgcTransition,
)
from player_platform.wallet.models import Entitlement, LedgerEntry, Wallet
from player_platform.webhooks.models import WebhookEvent

__all__ = [
    "AccountLink",
    "ApiKey",
    "AuditLog",
    "Base",
    "BlockedHash",
    "Drop",
    "DropCampaign",
    "DropPlayerCount",
    "EmailToken",
    "Entitlement",
    "Feedback",
    "FeedbackAttachment",
    "GameKey",
    "IdempotencyRecord",
    "Identity",
    "Invoice",
    "InvoiceCounter",
    "KeyLine",
    "KeyPool",
    "LeaderboardEntry",
    "LedgerEntry",
    "Mail",
    "Message",
    "MessageRecipient",
    "Order",
    "OrderItem",
    "ProviderCursor",
    "RefreshToken",
    "RefundRequest",
    "Season",
    "SeasonReward",
    "SeasonStanding",
    "Sku",
    "StudioDelivery",
    "StudioEndpoint",
    "StudioEvent",
    "SupplierOffer",
    "SupplierOrderRecord",
    "SupplierProduct",
    "UgcAppeal",
    "UgcDownload",
    "UgcItem",
    "UgcRating",
    "UgcReport",
    "UgcTransition",
    "UsedNonce",
    "User",
    "Wallet",
    "WebhookEvent",
    "WishlistAlert",
    "WishlistItem",
]
