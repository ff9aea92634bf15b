"""Prometheus metrics of one server process (scraped at /metrics)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.taps_received = Counter(
            "taptrail_taps_received", "Taps received from readers and apps", ["source"], registry=r
        )
        self.taps_accepted = Counter(
            "taptrail_taps_accepted", "Taps stored and scored", ["source"], registry=r
        )
        self.taps_duplicate = Counter(
            "taptrail_taps_duplicate", "Taps sent again (no effect)", ["source"], registry=r
        )
        self.taps_rejected = Counter(
            "taptrail_taps_rejected", "Taps rejected, by reason", ["reason"], registry=r
        )
        self.scoring_lag = Histogram(
            "taptrail_scoring_lag_seconds",
            "From a tap's (corrected) time to its scoring: how late taps arrive",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.scoring_delay = Histogram(
            "taptrail_scoring_delay_seconds",
            "From an upload's commit until its taps are scored and on the boards",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.scoring_rounds = Histogram(
            "taptrail_scoring_round_seconds",
            "Scoring rounds that scored something: lock wait, scoring and commit",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.scoring_round_holders = Histogram(
            "taptrail_scoring_round_holders",
            "Holders scored by one round",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=r,
        )
        self.scoring_pending = Gauge(
            "taptrail_scoring_pending_taps", "Stored taps waiting for their outcome", registry=r
        )
        self.scoring_oldest_pending = Gauge(
            "taptrail_scoring_oldest_pending_seconds",
            "How long the oldest tap waiting for its outcome has waited",
            registry=r,
        )
        self.db_errors = Counter(
            "taptrail_database_errors", "Database operations that failed", registry=r
        )
        self.redis_errors = Counter(
            "taptrail_redis_errors", "Redis operations that failed", registry=r
        )
        self.requests = Histogram(
            "taptrail_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.websocket_clients = Gauge(
            "taptrail_websocket_clients", "Live leaderboard sockets open", registry=r
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)

    def track_websockets(self, count: Callable[[], float]) -> None:
        self.websocket_clients.set_function(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
