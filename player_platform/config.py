"""Settings: one typed object, read once from PP_* environment variables."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

# argon2 parameter sets by name (security/passwords.py); tests run on the cheapest.
PASSWORD_COSTS = ("standard", "cheapest")


EMBEDDED_DATABASE_URL = "sqlite:///var/player_platform.db"
EMBEDDED_REDIS_URL = "memory://"
EMBEDDED_STORAGE_URL = "file://var/storage"
# A fixed development key so that key codes written by `make run` survive a restart.
DEVELOPMENT_VAULT_KEYS = "dev:" + base64.b64encode(b"player-platform-development-key!").decode()
# Outside production, without PP_SECRET_KEY: drawn once, kept here (beside the SQLite database)
# and read by every process, so all web workers, the workers and every restart share it.
DEVELOPMENT_SECRET_FILE = Path("var/secret_key")
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment cannot run the service; the message says why, in one line."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = EMBEDDED_DATABASE_URL
    redis_url: str = EMBEDDED_REDIS_URL
    # PP_REDIS_URL names any node of a Redis Cluster (redis.cluster.RedisCluster).
    redis_cluster: bool = False
    # RQ's Redis (RQ does not support Cluster): PP_REDIS_URL when unset.
    queue_redis_url: str | None = None
    # A PostgreSQL read replica for the routes where a stale read is harmless (db.py
    # replica_session); the primary when unset.
    database_replica_url: str | None = None
    storage_url: str = EMBEDDED_STORAGE_URL
    public_url: str = "http://127.0.0.1:8000"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # from_env fills it (PP_SECRET_KEY, else development_secret()); settings built in code
    # (tests) get one of their own.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    key_vault_keys: str = DEVELOPMENT_VAULT_KEYS
    # The game-key store (player_platform/keys/). The keyed hash that de-duplicates codes;
    # unset, PP_SECRET_KEY: set it once and never change it (it is no encryption key).
    key_hash_secret: str | None = None
    keys_return_unrevealed: bool = False  # a refunded, unrevealed key goes back to its pool
    keys_low_stock_threshold: int = 10  # a new pool's default
    # Formats by platform beyond Steam's built-in one: "epic=^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$;gog=..."
    keys_formats: str = ""
    keys_import_batch: int = 5000
    keys_import_workers: int = 2  # processes sealing for the CLI import (0: in its own process)
    admin_email: str | None = None
    admin_password: str | None = None
    rate_limit_auth_ip: int = 30
    rate_limit_write_user: int = 600
    rate_limit_read_ip: int = 6000
    jobs_inline: bool | None = None
    # A running job whose worker has not heartbeated for this long counts as dead (re-driven).
    job_heartbeat_silence_seconds: int = 300
    # Mail (player_platform/mail/): smtp://[user:password@]host:port[?starttls=...] or smtps://
    smtp_url: str | None = None
    mail_from: str = "Player Platform <no-reply@localhost>"
    email_verify_hours: int = 24
    password_reset_minutes: int = 30
    # Feedback (player_platform/feedback/).
    feedback_max_attachments: int = 3
    feedback_attachment_max_bytes: int = 10 * 1024**2
    rate_limit_feedback_user: int = 20  # reports per hour per player
    clamav_url: str | None = None
    # User-generated content (player_platform/ugc/policy.py reads these).
    ugc_max_bytes: str = "map=512M,mod=512M,image=20M,video=2G,text=1M,bundle=2G"
    ugc_quota_bytes: int = 5 * 1024**3
    ugc_multipart_threshold: int = 64 * 1024**2
    ugc_draft_hours: int = 24
    ugc_auto_publish: str = "image,text"
    ugc_quarantine: bool = False
    ugc_max_pixels: int = 50_000_000
    ugc_archive_max_members: int = 10_000
    ugc_archive_max_bytes: int = 4 * 1024**3
    ugc_archive_max_ratio: int = 100
    max_body_bytes: int = 1_048_576
    webhook_max_attempts: int = 8  # then an inbound event is marked failed (kept, replayable)
    jwt_issuer: str = "player-platform"
    jwt_audience: str = "player-platform"
    access_token_seconds: int = 1800
    refresh_token_days: int = 30
    refresh_reuse_seconds: int = 10
    password_hash_cost: str = "standard"  # argon2 parameters: standard, or cheapest for tests
    trusted_proxies: int = 0
    metrics_public: bool = True
    # UGC moderation (player_platform/ugc/moderation.py, reports.py).
    ugc_report_threshold: int = 3
    ugc_two_person_removal: bool = False
    ugc_claim_seconds: int = 300
    # Review console (blueprints/console/): a session idle this long is signed out.
    console_idle_seconds: int = 1800
    # Outside services. Tests point these at fake servers on loopback.
    steam_api_url: str = "https://partner.steam-api.com"
    steam_api_key: str | None = None
    steam_app_id: int | None = None
    steam_openid_url: str = "https://steamcommunity.com/openid/login"
    steam_sandbox: bool = False
    steam_require_ownership: bool = False
    steam_refuse_publisher_banned: bool = True
    steam_refuse_vac_banned: bool = False
    epic_jwks_url: str = "https://api.epicgames.dev/epic/oauth/v2/.well-known/jwks.json"
    epic_connect_jwks_url: str = "https://api.epicgames.dev/auth/v1/oauth/jwks"
    epic_issuer: str = "https://api.epicgames.dev/epic/oauth/"
    epic_connect_issuer: str = "https://api.epicgames.dev/auth/v1/oauth"
    epic_client_id: str | None = None
    epic_deployment_id: str | None = None
    epic_ecom_keys_url: str = (
        "https://ecommerceintegration-public-service-ecomprod02.ol.epicgames.com"
        "/ecommerceintegration/api/public/publickeys"
    )
    twitch_api_url: str = "https://api.twitch.tv/helix"
    twitch_auth_url: str = "https://id.twitch.tv/oauth2"
    twitch_client_id: str | None = None
    twitch_client_secret: str | None = None
    twitch_eventsub_secret: str | None = None
    stripe_api_url: str = "https://api.stripe.com"
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    steam_webhook_secret: str | None = None  # a studio's relay signs Steam events with it
    # Key suppliers (player_platform/suppliers/): a supplier without credentials is not asked.
    kinguin_api_url: str = "https://gateway.kinguin.net/esa/api"
    kinguin_api_key: str | None = None
    kinguin_webhook_secret: str | None = None
    codeswholesale_api_url: str = "https://api.codeswholesale.com"
    codeswholesale_client_id: str | None = None
    codeswholesale_client_secret: str | None = None
    supplier_timeout_seconds: int = 10  # read timeout of one supplier call
    supplier_slow_seconds: int = 5  # a call slower than this counts against the breaker
    supplier_breaker_open_seconds: int = 30  # an open breaker waits this long before a trial
    # A buy whose answer was lost and that a lookup does not find yet stays pending this long.
    supplier_uncertain_grace_seconds: int = 600
    paypal_api_url: str = "https://api-m.paypal.com"
    paypal_client_id: str | None = None
    paypal_client_secret: str | None = None
    paypal_webhook_id: str | None = None  # PayPal verifies deliveries against it
    # Fraud rules (commerce/fraud.py); 0 turns a rule off.
    fraud_window_minutes: int = 60
    fraud_orders_per_player: int = 10
    fraud_orders_per_ip: int = 0  # IP rules: on where PP_TRUSTED_PROXIES gives real IPs
    fraud_orders_per_fingerprint: int = 10
    fraud_accounts_per_ip: int = 0
    fraud_accounts_per_device: int = 3
    fraud_new_account_hours: int = 24
    fraud_new_account_amount: int = 20000
    kyc_amount: int = 0  # orders of this total or more wait for a verified identity
    reseller_balance_sku: str = "reseller_credit"  # a consumable: 1 = one minor unit
    reseller_currency: str = "USD"  # resellers' orders are priced in it
    # Studio webhooks (player_platform/studiohooks/): attempts before a delivery is dead-lettered,
    # the first retry's delay (doubled per attempt) and the receiver's time to answer.
    studio_webhook_max_attempts: int = 8
    studio_webhook_backoff_seconds: int = 10
    studio_webhook_timeout_seconds: int = 10
    # Invoices (player_platform/commerce/invoices.py): the seller printed on every invoice.
    invoice_seller_name: str = "Player Platform Studio"
    invoice_seller_address: str = ""
    invoice_seller_tax_id: str = ""
    invoice_prefix: str = "INV"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"PP_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.name)
        if "secret_key" not in values:
            if values.get("env") == "production":
                raise ConfigError("production needs PP_SECRET_KEY (32 characters or more)")
            values["secret_key"] = development_secret()
        settings = cls(**values)
        settings.check()
        return settings

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def redis_in_process(self) -> bool:
        return self.redis_url == EMBEDDED_REDIS_URL

    @property
    def jobs_redis_url(self) -> str:
        """Where RQ's queues live: PP_QUEUE_REDIS_URL, else the one Redis."""
        return self.queue_redis_url or self.redis_url

    @property
    def run_jobs_inline(self) -> bool:
        return self.redis_in_process if self.jobs_inline is None else self.jobs_inline

    def check(self) -> None:
        if self.env not in {"development", "test", "production"}:
            raise ConfigError(f"PP_ENV must be development, test or production, not {self.env!r}")
        if self.password_hash_cost not in PASSWORD_COSTS:
            raise ConfigError(
                f"PP_PASSWORD_HASH_COST must be one of {', '.join(PASSWORD_COSTS)},"
                f" not {self.password_hash_cost!r}"
            )
        if self.ugc_report_threshold < 1 or self.ugc_claim_seconds < 1:
            raise ConfigError("PP_UGC_REPORT_THRESHOLD and PP_UGC_CLAIM_SECONDS must be 1 or more")
        self._check_cluster()
        if not self.production:
            return
        if self.password_hash_cost != "standard":
            raise ConfigError("production refuses PP_PASSWORD_HASH_COST below standard")
        embedded = {
            "PP_DATABASE_URL": self.database_url.startswith("sqlite"),
            "PP_REDIS_URL": self.redis_in_process,
            "PP_STORAGE_URL": self.storage_url.startswith("file://"),
            "PP_KEY_VAULT_KEYS": self.key_vault_keys == DEVELOPMENT_VAULT_KEYS,
            "PP_JOBS_INLINE": self.run_jobs_inline,
        }
        for name, is_embedded in embedded.items():
            if is_embedded:
                raise ConfigError(f"production refuses the embedded default of {name}: set it")
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ConfigError("PP_SECRET_KEY must be at least 32 characters in production")

    def _check_cluster(self) -> None:
        if not self.redis_cluster:
            return
        if self.redis_in_process:
            raise ConfigError("PP_REDIS_CLUSTER needs PP_REDIS_URL naming a node of the cluster")
        if self.queue_redis_url is None and not self.run_jobs_inline:
            raise ConfigError("PP_REDIS_CLUSTER needs PP_QUEUE_REDIS_URL: RQ cannot use a cluster")


def development_secret(path: Path = DEVELOPMENT_SECRET_FILE) -> str:
    """The secret kept in ``path``, drawn and written there (mode 0600) if it is missing.

    The file appears whole or not at all: it is written under a temporary name and hard-linked
    into place, which fails if another process got there first; then both read the winner's.
    So web workers starting together, before or without `init`, agree on one secret."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: read theirs
                os.link(draft, path)
        finally:
            os.unlink(draft)
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{path} holds no usable secret: delete it and a new one is drawn")
    return secret


def _parse(annotation: object, raw: str, name: str) -> object:
    kind = str(annotation)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("bool"):
            return _bool(raw)
    except ValueError:
        raise ConfigError(f"PP_{name.upper()} must be an integer, not {raw!r}") from None
    return raw
