"""What one scrape reads, each part with one cheap call: the database, Redis and the API
process's own state. Blocking; the scrape runs it in a thread. A part that cannot be read
is left out (its component's reachability says why), never the whole scrape."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rq import Worker
from sqlalchemy import func, select

from appmanage.enums import JobState
from appmanage.event_stream import stream_name
from appmanage.jobs.queue import job_queue
from appmanage.services import Services
from appmanage.snapshot import take_snapshot
from appmanage.storage.models import Job

log = logging.getLogger(__name__)

FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED)
LOCAL_HOST = "local"


@dataclass
class Readings:
    up: dict[str, bool] = field(default_factory=dict)
    apps_by_status: Counter[str] = field(default_factory=Counter)
    jobs_by_kind_state: Counter[tuple[str, str]] = field(default_factory=Counter)
    job_durations: dict[str, list[float]] = field(default_factory=dict)
    queue_depth: dict[str, int] = field(default_factory=dict)
    workers: int | None = None
    stream_length: int | None = None
    stream_lag_seconds: float | None = None
    subscribers: int = 0


def read_all(services: Services, subscribers: int, hub_cursor: str | None) -> Readings:
    readings = Readings(subscribers=subscribers)
    readings.up["database"] = services.db.ping()
    readings.up["redis"] = services.redis_ok()
    readings.up["docker"] = services.containers.ping()
    if readings.up["database"]:
        _attempt("apps", lambda: _read_apps(services, readings))
        _attempt("jobs", lambda: _read_jobs(services, readings))
    if readings.up["redis"]:
        _attempt("queue", lambda: _read_queue(services, readings))
        _attempt("event stream", lambda: _read_stream(services, readings, hub_cursor))
    return readings


def _attempt(part: str, read: Callable[[], None]) -> None:
    try:
        read()
    except Exception as exc:
        log.warning("metrics: %s not read: %s", part, exc)


def _read_apps(services: Services, readings: Readings) -> None:
    """Statuses as the `apps` query computes them, from the API's container cache."""
    for snapshot in take_snapshot(services):
        readings.apps_by_status[snapshot.status.status.value] += 1


def _read_jobs(services: Services, readings: Readings) -> None:
    with services.db.read() as session:
        counts = session.execute(select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)).all()
        spans = session.execute(
            select(Job.kind, Job.started_at, Job.finished_at).where(
                Job.state.in_(FINISHED), Job.started_at.is_not(None), Job.finished_at.is_not(None)
            )
        ).all()
    for kind, state, count in counts:
        readings.jobs_by_kind_state[(kind.value, state.value)] = int(count)
    for kind, started, finished in spans:
        if started is not None and finished is not None:
            seconds = max(0.0, (finished - started).total_seconds())
            readings.job_durations.setdefault(kind.value, []).append(seconds)


def _read_queue(services: Services, readings: Readings) -> None:
    queue = job_queue(services.redis, services.settings.namespace)
    readings.queue_depth[LOCAL_HOST] = queue.count
    readings.workers = Worker.count(queue=queue)


def _read_stream(services: Services, readings: Readings, hub_cursor: str | None) -> None:
    """Length of the capped stream, and how far this process's reader is behind its newest entry."""
    stream = stream_name(services.settings.namespace)
    readings.stream_length = int(services.redis.xlen(stream))
    newest: Any = services.redis.xrevrange(stream, count=1)
    readings.stream_lag_seconds = 0.0
    if newest and hub_cursor:
        newest_id = newest[0][0].decode() if isinstance(newest[0][0], bytes) else str(newest[0][0])
        behind_ms = _millis(newest_id) - _millis(hub_cursor)
        readings.stream_lag_seconds = max(0, behind_ms) / 1000


def _millis(cursor: str) -> int:
    return int(cursor.split("-", 1)[0])
