"""The host's one stats sampler: a thread of its watcher.

While someone wants the host's stats (stats.demand), it samples at the shortest interval
asked and publishes every sample on the host's channel. When nobody does, it publishes
nothing and samples only every BACKGROUND_SECONDS (at most a quarter of the history
period): enough for the history's averages, whose CPU part is exact at any rate (CPU
time over wall time), and for the `last` sample `App.stats` answers from. Every sample
is kept as the host's `last`; each finished period's averages are written to the
database, and once an hour rows older than 7 days are deleted.

The watcher hands it each container event (`notice`): a container that started, died or
went makes the next pass list the containers again, so it shows in the next sample.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from appmanage.config import Settings
from appmanage.runtime.container_events import event_action
from appmanage.runtime.container_stats import ContainerStatsReader, Pass
from appmanage.runtime.containers import DockerUnavailable
from appmanage.stats.demand import LAST_TTL_SECONDS, Demand, channel, last_key
from appmanage.stats.history import PeriodAverages
from appmanage.stats.machine import machine_stats
from appmanage.stats.samples import HostSample, build_sample
from appmanage.storage.database import Database
from appmanage.storage.stats_history import prune_history, write_period

log = logging.getLogger(__name__)

BACKGROUND_SECONDS = 15.0
DEMAND_POLL_SECONDS = 0.5
PRUNE_SECONDS = 3600.0
RELIST_ACTIONS = frozenset({"start", "die", "destroy", "pause", "unpause"})  # the running set changes


class StatsSampler:
    def __init__(self, settings: Settings, redis: Redis, db: Database, host: str) -> None:
        self.host = host
        self._settings = settings
        self._redis = redis
        self._db = db
        self._demand = Demand(redis, settings.namespace, host)
        self._channel = channel(settings.namespace, host)
        self._last_key = last_key(settings.namespace, host)
        self._reader = ContainerStatsReader()
        self._history = PeriodAverages(settings.stats_history_seconds)
        self._previous: Pass | None = None
        self._pruned_at = float("-inf")
        self.background_seconds = min(BACKGROUND_SECONDS, settings.stats_history_seconds / 4)
        self._redis_lost = False
        self._changed = threading.Event()

    def notice(self, event: dict[str, Any]) -> None:
        """A container event from the watcher's thread: one that changes which containers
        run makes the next pass list them again."""
        if event_action(event) in RELIST_ACTIONS:
            self._changed.set()

    def run(self, stopping: threading.Event) -> None:
        attempted = due = float("-inf")
        while not stopping.is_set():
            every = self._wanted()
            period = every or self.background_seconds
            due = min(due, attempted + period)  # a shorter interval asked takes effect at once
            now = time.monotonic()
            if now >= due:
                attempted = now
                self._sample_safely(live=every is not None)
                due = due + period if due + period > now else now + period
            stopping.wait(max(0.01, min(DEMAND_POLL_SECONDS, due - time.monotonic())))
        self._reader.close()

    def start(self, stopping: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stopping,), name="stats-sampler", daemon=True)
        thread.start()
        return thread

    def _wanted(self) -> float | None:
        try:
            return self._demand.every()
        except RedisError as exc:
            log.debug("stats demand not read: %s", exc)
            return None

    def _sample_safely(self, live: bool) -> None:
        try:
            self.sample(live)
        except DockerUnavailable as exc:
            log.debug("stats not sampled, Docker does not answer: %s", exc)
        except Exception:
            log.exception("stats sample failed")

    def sample(self, live: bool) -> HostSample:
        """Read every container once; keep the sample as `last`, publish it when `live`,
        and write the history period it ends."""
        if self._changed.is_set():
            self._changed.clear()  # before listing: a change during it is seen by the next pass
            self._reader.relist()
        current = self._reader.read()
        previous, self._previous = self._previous, current
        sample = build_sample(self.host, datetime.now(UTC), machine_stats(self._settings.data_dir), current, previous)
        payload = sample.to_json()
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(self._last_key, payload, ex=LAST_TTL_SECONDS)
            if live:
                pipe.publish(self._channel, payload)
            pipe.execute()
            self._redis_lost = False
        except RedisError as exc:
            if not self._redis_lost:  # once per outage
                log.warning("stats samples not published until Redis answers again: %s", exc)
            self._redis_lost = True
        self._record(sample, current.at - previous.at if previous is not None else 0.0)
        return sample

    def _record(self, sample: HostSample, seconds: float) -> None:
        finished = self._history.add(sample, seconds)
        try:
            if finished is not None:
                rows = [(a.app, a.cpu_percent, a.memory_bytes) for a in finished.averages]
                write_period(self._db, self.host, finished.start, rows)
            if time.monotonic() - self._pruned_at >= PRUNE_SECONDS:
                self._pruned_at = time.monotonic()
                if pruned := prune_history(self._db):
                    log.info("deleted %d stats history rows older than 7 days", pruned)
        except SQLAlchemyError as exc:
            log.warning("stats history not written: %s", exc)


def start_sampler(settings: Settings, redis: Redis, db: Database, stopping: threading.Event) -> StatsSampler:
    """The sampler of this agent's Docker host (`settings.agent_host`), started as a daemon thread."""
    sampler = StatsSampler(settings, redis, db, settings.agent_host)
    sampler.start(stopping)
    return sampler
