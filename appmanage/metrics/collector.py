"""The custom Collector: turns one scrape's Readings into Prometheus metric families.

Every value is read when Prometheus scrapes (nothing is counted in between), so any
number of API processes report the same apps and jobs; `appmanage_subscribers` and the
stream lag are this process's own.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from appmanage.enums import AppStatus, JobKind, JobState
from appmanage.metrics.readings import Readings

DURATION_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
COMPONENTS = ("database", "redis", "docker")


class AppManageCollector(Collector):
    def __init__(self, read: Callable[[], Readings]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        readings = self._read()
        up = GaugeMetricFamily("appmanage_up", "1 when the component answered this scrape", labels=["component"])
        for component in COMPONENTS:
            up.add_metric([component], 1.0 if readings.up.get(component) else 0.0)
        yield up
        if readings.up.get("database"):
            yield apps_by_status(readings)
            yield jobs_by_kind_state(readings)
            yield job_durations(readings)
        if readings.workers is not None:
            depth = GaugeMetricFamily("appmanage_queue_depth", "jobs waiting in a host's queue", labels=["host"])
            for host, count in sorted(readings.queue_depth.items()):
                depth.add_metric([host], count)
            yield depth
            yield GaugeMetricFamily("appmanage_workers", "RQ workers registered for the queue", value=readings.workers)
        yield GaugeMetricFamily(
            "appmanage_subscribers", "live subscriptions on this API process", value=readings.subscribers
        )
        if readings.stream_length is not None:
            yield GaugeMetricFamily(
                "appmanage_event_stream_length", "entries kept in the event stream", value=readings.stream_length
            )
        if readings.stream_lag_seconds is not None:
            yield GaugeMetricFamily(
                "appmanage_event_stream_lag_seconds",
                "how far this API process's reader is behind the stream's newest entry",
                value=readings.stream_lag_seconds,
            )


def apps_by_status(readings: Readings) -> GaugeMetricFamily:
    family = GaugeMetricFamily("appmanage_apps", "apps by computed status", labels=["status"])
    for status in AppStatus:
        family.add_metric([status.value], readings.apps_by_status.get(status.value, 0))
    return family


def jobs_by_kind_state(readings: Readings) -> GaugeMetricFamily:
    family = GaugeMetricFamily("appmanage_jobs", "job rows kept, by kind and state", labels=["kind", "state"])
    for kind in JobKind:
        for state in JobState:
            family.add_metric([kind.value, state.value], readings.jobs_by_kind_state.get((kind.value, state.value), 0))
    return family


def job_durations(readings: Readings) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "appmanage_job_duration_seconds", "run time of the finished jobs kept, by kind", labels=["kind"]
    )
    for kind in JobKind:
        seconds = sorted(readings.job_durations.get(kind.value, []))
        family.add_metric([kind.value], buckets=cumulative(seconds, DURATION_BUCKETS), sum_value=sum(seconds))
    return family


def cumulative(sorted_values: Sequence[float], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Prometheus' `le` buckets: how many values are at most each bound, then +Inf."""
    counts = [(_bound(bound), float(bisect.bisect_right(sorted_values, bound))) for bound in bounds]
    return [*counts, ("+Inf", float(len(sorted_values)))]


def _bound(value: float) -> str:
    return str(value)
