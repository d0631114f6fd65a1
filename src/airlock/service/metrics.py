"""Prometheus metrics of one service instance (its own registry, so tests can start several)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(
        self,
        queue_depth: Callable[[], float],
        allowlist_counter: Callable[[], float],
        reload_refused: Callable[[], float],
    ) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "airlock_admission_decisions",
            "Admission decisions by endpoint and outcome",
            ["endpoint", "decision"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "airlock_admission_latency_seconds",
            "Time to decide one admission request",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "airlock_allowlist_reloads", "Allowlist reloads by result", ["result"], registry=self.registry
        )
        Gauge("airlock_scan_queue_depth", "Scans queued or running", registry=self.registry).set_function(
            queue_depth
        )
        Gauge(
            "airlock_allowlist_counter", "Counter of the allowlist in service", registry=self.registry
        ).set_function(allowlist_counter)
        Gauge(
            "airlock_allowlist_reload_refused",
            "1 while the last reload was refused and an older allowlist stays in service",
            registry=self.registry,
        ).set_function(reload_refused)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
