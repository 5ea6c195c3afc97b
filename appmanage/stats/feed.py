"""The API side of the stats: one feed per API process (and event loop).

Subscribers of a host's stats share one pub/sub connection, started with the first
subscriber and closed after the last one leaves; while any is left, the feed keeps its
demand for that host in Redis (the shortest interval its subscribers ask) renewed, so
the host's sampler samples at that pace. Each sample is decoded once, then offered to
every subscriber of its host, which takes only those `every` seconds apart.

`latest` answers queries: the host's last sample when it is fresh, else it asks the
sampler for one and waits for it a little (at most WAIT_SECONDS); a sample read is kept
for a second (ten when the sampler did not answer), so an apps list asks Redis once per
host and an offline host does not hold every query up. `newer_than` answers a query that
found containers running which the sample it read does not show yet (they just started):
a sample taken after it, asked of the sampler the same way, at most once per app and
FRESH_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from appmanage.stats.demand import (
    LAST_TTL_SECONDS,
    RENEW_SECONDS,
    WANT,
    WANT_TTL_SECONDS,
    channel,
    last_key,
    member,
    wanted_key,
)
from appmanage.stats.samples import HostSample

log = logging.getLogger(__name__)

FRESH_SECONDS = 5.0
WAIT_SECONDS = 2.0
POLL_SECONDS = 0.1
CACHE_SECONDS = 1.0
MISS_SECONDS = 10.0  # a host whose sampler did not answer is asked again after this
QUERY_WANT_SECONDS = 3.0
SUBSCRIBER_BUFFER = 8


@dataclass(eq=False)
class StatsSubscriber:
    every: float
    queue: asyncio.Queue[HostSample] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_BUFFER))
    _taken_at: float | None = None

    def offer(self, sample: HostSample) -> None:
        at = sample.sampled_at.timestamp()
        if self._taken_at is not None and at - self._taken_at < self.every - min(0.5, self.every / 4):
            return
        self._taken_at = at
        if self.queue.full():  # a slow client gets the newest figures, not a backlog
            self.queue.get_nowait()
        self.queue.put_nowait(sample)

    async def next(self) -> HostSample:
        return await self.queue.get()


class StatsFeed:
    def __init__(self, redis_url: str, namespace: str) -> None:
        self._namespace = namespace
        self._redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        self._want = self._redis.register_script(WANT)
        self._asker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._subscribers: dict[str, set[StatsSubscriber]] = {}
        self._members: dict[str, str] = {}  # host → our member in its wanted set
        self._task: asyncio.Task[None] | None = None
        self._cache: dict[str, tuple[float, HostSample | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._asked_for: dict[tuple[str, str], float] = {}  # (host, app) → when newer_than asked
        self._unanswered: dict[str, float] = {}  # host → until when its sampler is not asked again

    @contextlib.asynccontextmanager
    async def subscribe(self, host: str, every: float) -> AsyncIterator[StatsSubscriber]:
        subscriber = StatsSubscriber(every)
        self._subscribers.setdefault(host, set()).add(subscriber)
        try:
            with contextlib.suppress(RedisError, OSError):
                await self._renew(host)  # the sampler hears of it within its next poll
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._pump(), name="stats-feed")
            yield subscriber
        finally:
            subscribers = self._subscribers.get(host, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._subscribers.pop(host, None)
                await self._withdraw(host)

    async def latest(self, host: str) -> HostSample | None:
        """The host's newest sample, fresh if its sampler answers within WAIT_SECONDS; None
        when the host has none."""
        if (cached := self._cached(host)) is not None:
            return cached[1]
        async with self._locks.setdefault(host, asyncio.Lock()):
            if (cached := self._cached(host)) is not None:
                return cached[1]
            sample, fresh = await self._read_latest(host)
            self._cache[host] = (time.monotonic() + (CACHE_SECONDS if fresh else MISS_SECONDS), sample)
            if not fresh:
                self._unanswered[host] = time.monotonic() + MISS_SECONDS
            return sample

    async def newer_than(self, host: str, sample: HostSample, app: str) -> HostSample:
        """A sample of the host taken after `sample`, which lacks `app`'s running containers:
        one that came since, or a fresh one asked of the sampler (waiting up to WAIT_SECONDS);
        `sample` itself when the sampler does not answer or was asked for `app` just before."""
        async with self._locks.setdefault(host, asyncio.Lock()):
            cached = self._cached(host)
            if cached is not None and cached[1] is not None and cached[1].sampled_at > sample.sampled_at:
                return cached[1]
            now = time.monotonic()
            self._asked_for = {k: t for k, t in self._asked_for.items() if now - t < FRESH_SECONDS}
            if (host, app) in self._asked_for or now < self._unanswered.get(host, now):
                return sample
            self._asked_for[(host, app)] = now
            newest = await self._sample_after(host, sample)
            if newest is None:
                self._unanswered[host] = time.monotonic() + MISS_SECONDS
                return sample
            self._cache[host] = (time.monotonic() + CACHE_SECONDS, newest)
            return newest

    async def _sample_after(self, host: str, sample: HostSample) -> HostSample | None:
        try:
            raw, _ = await self._last(last_key(self._namespace, host))
            if raw is not None and (newest := HostSample.from_json(raw)).sampled_at > sample.sampled_at:
                return newest
            return await self._ask_and_wait(host, raw)
        except (RedisError, OSError) as exc:
            log.warning("stats of host %s not read: %s", host, exc)
            return None

    def _cached(self, host: str) -> tuple[float, HostSample | None] | None:
        cached = self._cache.get(host)
        return cached if cached is not None and time.monotonic() < cached[0] else None

    async def _read_latest(self, host: str) -> tuple[HostSample | None, bool]:
        """The newest sample, and whether it is fresh."""
        key = last_key(self._namespace, host)
        try:
            raw, left_ms = await self._last(key)
            if raw is not None and LAST_TTL_SECONDS - left_ms / 1000 <= FRESH_SECONDS:
                return HostSample.from_json(raw), True
            if (newer := await self._ask_and_wait(host, raw)) is not None:
                return newer, True
        except (RedisError, OSError) as exc:
            log.warning("stats of host %s not read: %s", host, exc)
            return None, False
        return (HostSample.from_json(raw) if raw is not None else None), False

    async def _ask_and_wait(self, host: str, raw: bytes | None) -> HostSample | None:
        """Ask the host's sampler for a sample; the first one other than `raw` within
        WAIT_SECONDS, or None."""
        key = last_key(self._namespace, host)
        asked = member(1, self._asker + ":query")
        await self._want(keys=[wanted_key(self._namespace, host)], args=[asked, int(QUERY_WANT_SECONDS * 1000)])
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            newer, _ = await self._last(key)
            if newer is not None and newer != raw:
                return HostSample.from_json(newer)
        return None

    async def _last(self, key: str) -> tuple[bytes | None, int]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        raw, left = await pipe.execute()
        return raw, int(left or 0)

    async def _renew(self, host: str) -> None:
        subscribers = self._subscribers.get(host)
        if not subscribers:
            return
        wanted = member(min(s.every for s in subscribers), self._asker)
        previous = self._members.get(host)
        if previous is not None and previous != wanted:
            await self._redis.zrem(wanted_key(self._namespace, host), previous)
        self._members[host] = wanted
        await self._want(keys=[wanted_key(self._namespace, host)], args=[wanted, int(WANT_TTL_SECONDS * 1000)])

    async def _withdraw(self, host: str) -> None:
        if (previous := self._members.pop(host, None)) is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.zrem(wanted_key(self._namespace, host), previous)

    async def _pump(self) -> None:
        """While anyone subscribes: follow the hosts' channels and renew the demand."""
        while self._subscribers:
            pubsub = self._redis.pubsub()
            listening: dict[str, str] = {}  # channel → host
            renewed = float("-inf")
            try:
                while self._subscribers:
                    hosts = {channel(self._namespace, h): h for h in self._subscribers}
                    if added := hosts.keys() - listening.keys():
                        await pubsub.subscribe(*added)
                    if removed := listening.keys() - hosts.keys():
                        await pubsub.unsubscribe(*removed)
                    listening = hosts
                    if time.monotonic() - renewed >= RENEW_SECONDS:
                        renewed = time.monotonic()
                        for host in hosts.values():
                            await self._renew(host)
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._deliver(listening, message)
            except (RedisError, OSError) as exc:
                log.warning("stats feed: Redis unreachable, retrying: %s", exc)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, listening: dict[str, str], message: dict[str, Any]) -> None:
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else str(message["channel"])
        host = listening.get(name)
        if host is None:
            return
        sample = HostSample.from_json(message["data"])
        self._cache[host] = (time.monotonic() + CACHE_SECONDS, sample)
        for subscriber in list(self._subscribers.get(host, ())):
            subscriber.offer(sample)


_FEEDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], StatsFeed]] = (
    weakref.WeakKeyDictionary()
)


def feed_for(redis_url: str, namespace: str) -> StatsFeed:
    """This process's feed for that Redis and namespace, in the running event loop."""
    feeds = _FEEDS.setdefault(asyncio.get_running_loop(), {})
    if (redis_url, namespace) not in feeds:
        feeds[(redis_url, namespace)] = StatsFeed(redis_url, namespace)
    return feeds[(redis_url, namespace)]
