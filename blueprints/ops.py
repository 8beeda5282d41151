"""Liveness, readiness and Prometheus metrics (outside /v1 and the OpenAPI document)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import RedisError
from rq.registry import FailedJobRegistry
from sqlalchemy import text

from blueprints.http import current_server, platform
from player_platform.db import Database
from player_platform.drops import campaigns
from player_platform.jobs import QUEUES, Jobs
from player_platform.keys import inventory
from player_platform.outage import DEGRADATIONS, degraded
from player_platform.webhooks import service as webhooks

bp = Blueprint("ops", __name__)
METRICS_SCOPE = "metrics:read"
log = logging.getLogger(__name__)


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self, jobs: Jobs, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pp_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pp_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.registry.register(QueueCollector(jobs))
        self.registry.register(DegradedCollector())
        self.registry.register(WebhookCollector(db))
        self.registry.register(KeyStockCollector(db))

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class QueueCollector(Collector):
    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, failed = _queue_families()
        if not self.jobs.inline:
            try:
                for name in QUEUES:
                    queue = self.jobs.queue(name)
                    depth.add_metric([name], queue.count)
                    failed.add_metric([name], FailedJobRegistry(queue=queue).count)
            except RedisError as error:  # the queues are in Redis: no figures, the rest stands
                degraded("queue_metrics", error)
                depth, failed = _queue_families()
        yield depth
        yield failed


def _queue_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily("pp_queue_depth", "Jobs waiting per queue", labels=["queue"]),
        GaugeMetricFamily("pp_queue_failed_jobs", "Jobs in the failed registry", labels=["queue"]),
    )


class DegradedCollector(Collector):
    """What this process served without Redis, by feature (outage.py)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "pp_redis_degraded",
            "Operations served without Redis because it was unreachable",
            labels=["feature"],
        )
        for feature, count in sorted(DEGRADATIONS.counts.items()):
            family.add_metric([feature], count)
        yield family


class WebhookCollector(Collector):
    """Inbound events that failed for good, per provider: each waits for an admin's replay."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        failed = GaugeMetricFamily(
            "pp_webhook_events_failed", "Webhook events marked failed", labels=["provider"]
        )
        try:
            with self.db.unit_of_work() as session:
                counts = webhooks.count_failed(session)
                revoked = campaigns.count_revoked(session)
        except Exception as error:  # /metrics answers without the database too
            log.warning("webhook metrics unavailable", extra={"error": str(error)})
            counts, revoked = {}, None
        for provider, count in sorted(counts.items()):
            failed.add_metric([provider], count)
        yield failed
        if revoked is not None:
            yield GaugeMetricFamily(
                "pp_twitch_subscriptions_revoked",
                "Drops campaigns whose EventSub subscription Twitch revoked",
                value=revoked,
            )


class KeyStockCollector(Collector):
    """Low-stock crossings of key pools seen by this process, and pools in alert now."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        alerts = CounterMetricFamily(
            "pp_key_low_stock_alerts",
            "Key pools that fell to their low-stock threshold (once per crossing)",
            labels=["sku_id", "platform"],
        )
        for (sku_id, key_platform), count in sorted(inventory.LOW_STOCK_ALERTS.counts.items()):
            alerts.add_metric([sku_id, key_platform], count)
        yield alerts
        try:
            with self.db.unit_of_work() as session:
                low = inventory.count_low(session)
        except Exception as error:  # /metrics answers without the database too
            log.warning("key stock metrics unavailable", extra={"error": str(error)})
            return
        yield GaugeMetricFamily(
            "pp_key_pools_low_stock", "Key pools at or below their low-stock threshold", value=low
        )


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    p = platform()
    checks = {"database": _database_ok, "redis": lambda: p.redis.ping(), "storage": p.storage.check}
    if p.jobs.redis is not p.redis:  # PP_QUEUE_REDIS_URL: RQ's own Redis
        checks["queue_redis"] = lambda: p.jobs.redis.ping()
    down = [name for name, check in checks.items() if not _passes(name, check)]
    if down:
        response = jsonify(
            status="unavailable",
            down=down,
            code="unavailable",
            title="Service unavailable",
            detail=f"Not reachable: {', '.join(down)}",
        )
        response.status_code = 503
        response.mimetype = "application/problem+json"
        return response
    return jsonify(status="ok")


@bp.get("/metrics")
def metrics() -> Response:
    """Public by default (a scraper on a private network); with PP_METRICS_PUBLIC=false the
    scraper sends a server API key holding ``metrics:read`` (Prometheus: ``authorization:
    {type: ApiKey, credentials: <key>}``)."""
    if not platform().settings.metrics_public:
        current_server(METRICS_SCOPE)
    registry = current_app.extensions["player_platform.metrics"].registry
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


def _database_ok() -> None:
    with platform().db.unit_of_work() as session:
        session.execute(text("SELECT 1"))


def _passes(name: str, check: object) -> bool:
    try:
        check()
        return True
    except Exception as error:  # any failure means "not ready"; say which
        log.warning("readiness check failed", extra={"dependency": name, "error": str(error)})
        return False
