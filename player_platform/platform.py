"""The Platform: every long-lived resource a request or a job needs, built once from Settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import fakeredis
from redis import Redis
from redis.cluster import RedisCluster

from player_platform.commerce import catalog, orders
from player_platform.commerce.epic import EpicOwnership
from player_platform.commerce.flows import Refunder
from player_platform.commerce.fraud import Rules
from player_platform.commerce.paypal_api import PayPalApi
from player_platform.commerce.steam import SteamMicroTxn
from player_platform.commerce.stripe_api import StripeApi
from player_platform.config import Settings
from player_platform.db import Database, utcnow
from player_platform.drops.helix import Helix
from player_platform.feedback.service import FeedbackPolicy
from player_platform.identity.epic import EpicVerifier
from player_platform.identity.providers import SteamPolicy
from player_platform.identity.session_cache import SessionCache
from player_platform.identity.steam import SteamWebApi
from player_platform.identity.steam_openid import SteamOpenId
from player_platform.identity.twitch import TwitchOAuth
from player_platform.jobs import Jobs
from player_platform.keys import codes as key_codes
from player_platform.keys import fulfilment as key_fulfilment
from player_platform.keys import refunds as key_refunds
from player_platform.leaderboards.index import LeaderboardIndex
from player_platform.mail.accounts import LinkPolicy, Outbox
from player_platform.mail.smtp import Mailer, open_mailer
from player_platform.outage import guarded_client
from player_platform.outbound import Outbound
from player_platform.security import passwords
from player_platform.security.ratelimit import RateLimiter
from player_platform.security.tokens import TokenSigner
from player_platform.security.vault import Vault
from player_platform.studiohooks.service import Policy as StudioWebhookPolicy
from player_platform.suppliers.chain import SupplierChain, build_chain
from player_platform.ugc.clamav import Clamd
from player_platform.ugc.policy import UgcPolicy
from storage import Storage, open_storage

_in_process_server = fakeredis.FakeServer()


@dataclass
class Platform:
    settings: Settings
    db: Database
    redis: Redis | RedisCluster  # leaderboards, rate limits, caches, sessions
    storage: Storage
    jobs: Jobs
    tokens: TokenSigner
    vault: Vault
    limiter: RateLimiter
    mailer: Mailer

    @classmethod
    def from_settings(cls, settings: Settings, *, db: Database | None = None) -> Platform:
        passwords.configure(settings.password_hash_cost)
        # What a refund does to an order's game keys follows this studio's policy.
        orders.REVERSAL_HOOKS["game_keys"] = functools.partial(
            key_refunds.undo_order_keys, return_unrevealed=settings.keys_return_unrevealed
        )
        redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
        db = db or Database.from_url(settings.database_url, replica=settings.database_replica_url)
        # An entry lives a minute at most: should a ban's invalidation miss Redis from the
        # process that committed it while other processes still read Redis, they refuse the
        # token within that minute instead of the access token's half hour.
        cache = SessionCache(redis, ttl_seconds=min(settings.access_token_seconds, 60))
        db.sessions.configure(info={"session_cache": cache})
        return cls(
            settings=settings,
            db=db,
            redis=redis,
            storage=open_storage(
                settings.storage_url,
                secret=settings.secret_key,
                public_base_url=settings.public_url,
                s3_endpoint_url=settings.s3_endpoint_url,
                s3_region=settings.s3_region,
            ),
            jobs=Jobs(
                connect_queue_redis(settings) if settings.queue_redis_url else redis,
                inline=settings.run_jobs_inline,
                heartbeat_silence_seconds=settings.job_heartbeat_silence_seconds,
            ),
            tokens=TokenSigner(
                secret=settings.secret_key,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                lifetime_seconds=settings.access_token_seconds,
                refresh_days=settings.refresh_token_days,
                refresh_reuse_seconds=settings.refresh_reuse_seconds,
            ),
            vault=Vault(
                settings.key_vault_keys,
                hash_secret=settings.key_hash_secret or settings.secret_key,
            ),
            limiter=RateLimiter(redis),
            # Built (and PP_SMTP_URL checked) at start; it connects only to send.
            mailer=open_mailer(settings.smtp_url, sender=settings.mail_from),
        )

    @cached_property
    def leaderboards(self) -> LeaderboardIndex:
        """The leaderboard index of this process: its Lua scripts registered and its season
        cache kept once, shared by the API and the jobs."""
        return LeaderboardIndex(self.redis, self.jobs, self.db)

    # Outbound clients, built on first use (each keeps a pooled HTTP session).
    @cached_property
    def steam(self) -> SteamWebApi:
        return SteamWebApi.from_settings(self.settings)

    @cached_property
    def steam_microtxn(self) -> SteamMicroTxn:
        return SteamMicroTxn(self.steam, sandbox=self.settings.steam_sandbox)

    @cached_property
    def stripe(self) -> StripeApi:
        return StripeApi(
            base_url=self.settings.stripe_api_url, secret_key=self.settings.stripe_secret_key
        )

    @cached_property
    def paypal(self) -> PayPalApi:
        return PayPalApi(
            base_url=self.settings.paypal_api_url,
            client_id=self.settings.paypal_client_id,
            client_secret=self.settings.paypal_client_secret,
            webhook_id=self.settings.paypal_webhook_id,
        )

    @cached_property
    def refunder(self) -> Refunder:
        return Refunder(steam=self.steam_microtxn, stripe=self.stripe, paypal=self.paypal)

    @cached_property
    def fraud_rules(self) -> Rules:
        return Rules.from_settings(self.settings)

    @cached_property
    def studio_http(self) -> Outbound:
        """The client that posts studio webhooks (PP_STUDIO_WEBHOOK_TIMEOUT_SECONDS to answer)."""
        return Outbound(
            "studio-webhooks", timeout=(3.05, self.settings.studio_webhook_timeout_seconds)
        )

    @cached_property
    def studio_webhook_policy(self) -> StudioWebhookPolicy:
        return StudioWebhookPolicy(
            max_attempts=self.settings.studio_webhook_max_attempts,
            backoff_seconds=self.settings.studio_webhook_backoff_seconds,
        )

    @cached_property
    def steam_policy(self) -> SteamPolicy:
        return SteamPolicy.from_settings(self.settings)

    @cached_property
    def steam_openid(self) -> SteamOpenId:
        return SteamOpenId(
            endpoint=self.settings.steam_openid_url,
            callback_url=f"{self.settings.public_url.rstrip('/')}/v1/auth/steam/openid/callback",
            secret=self.settings.secret_key,
        )

    @cached_property
    def epic(self) -> EpicVerifier:
        return EpicVerifier.from_settings(self.settings)

    @cached_property
    def epic_ownership(self) -> EpicOwnership:
        return EpicOwnership.from_settings(self.settings)

    @cached_property
    def mail_outbox(self) -> Outbox:
        return Outbox(self.jobs, self.vault, LinkPolicy.from_settings(self.settings))

    @cached_property
    def feedback_policy(self) -> FeedbackPolicy:
        return FeedbackPolicy.from_settings(self.settings)

    @cached_property
    def ugc_policy(self) -> UgcPolicy:
        return UgcPolicy.from_settings(self.settings)

    @cached_property
    def clamd(self) -> Clamd | None:
        """None without PP_CLAMAV_URL: items are then held for review, marked not_scanned."""
        return Clamd(self.settings.clamav_url) if self.settings.clamav_url else None

    @cached_property
    def suppliers(self) -> SupplierChain:
        """The key suppliers as one KeySource (suppliers/base.py): the configured ones, each
        behind its breaker, in each SKU's priority order."""
        return build_chain(
            self.settings, db=self.db, redis=self.redis, margin_floor=catalog.margin_floor
        )

    @cached_property
    def twitch(self) -> TwitchOAuth:
        return TwitchOAuth.from_settings(self.settings)

    @cached_property
    def key_formats(self) -> key_codes.Formats:
        return key_codes.Formats.from_setting(self.settings.keys_formats)

    @cached_property
    def key_fulfilment(self) -> key_fulfilment.Context:
        """What key fulfilment runs with (the fulfilment job, the backorder retry)."""
        return key_fulfilment.Context(
            db=self.db, source=self.suppliers, keeper=self.key_keeper, clock=utcnow
        )

    @cached_property
    def key_keeper(self) -> key_fulfilment.Keeper:
        return key_fulfilment.Keeper(
            vault=self.vault, jobs=self.jobs, threshold=self.settings.keys_low_stock_threshold
        )

    @cached_property
    def helix(self) -> Helix:
        """Twitch Helix with an app token (drops: EventSub subscriptions, entitlements)."""
        return Helix.from_settings(self.settings)


def connect_redis(
    url: str, *, cluster: bool = False, read_timeout: float | None = 5
) -> Redis | RedisCluster:
    """A client of the configured Redis (of the Redis Cluster ``url`` is a node of, with
    ``cluster``). Requests give up on a read after ``read_timeout`` seconds and go through a
    circuit breaker, so they fail fast while Redis is down (outage.py). An RQ worker blocks on
    BLPOP for minutes, so its connection passes None and keeps redis-py's retries with backoff:
    it waits for Redis rather than failing fast. RQ never gets a cluster (it cannot use one)."""
    if url == "memory://":
        return fakeredis.FakeRedis(server=_in_process_server)
    options = {"socket_connect_timeout": 2, "health_check_interval": 30}
    if read_timeout is None:
        return Redis.from_url(url, socket_timeout=None, **options)
    return guarded_client(url, cluster=cluster, socket_timeout=read_timeout, **options)


def connect_queue_redis(settings: Settings, *, read_timeout: float | None = 5) -> Redis:
    """RQ's Redis: PP_QUEUE_REDIS_URL, else the one Redis (never a cluster)."""
    return connect_redis(settings.jobs_redis_url, read_timeout=read_timeout)


_current: Platform | None = None


def bind_current(platform: Platform) -> None:
    """Make ``platform`` the one jobs of this process use (worker start, inline jobs, tests)."""
    global _current
    _current = platform


def current() -> Platform:
    """The process's Platform, built from the environment on first use in a worker."""
    global _current
    if _current is None:
        _current = Platform.from_settings(Settings.from_env())
    return _current
