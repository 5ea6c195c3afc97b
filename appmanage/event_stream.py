"""The event bus.

Every event is written to Redis once: an entry in a capped stream, whose entry id is the
event's cursor. Each API process reads that stream with ONE blocking connection and fans
the events out to its local subscribers, so a thousand subscribers cost memory, not
Redis connections. Reading the stream rather than a pub/sub channel makes the feed
gap-free: after a broken connection the hub resumes from the last id it delivered, and a
client resumes from the last cursor it saw (`events(after:)`).

A job's log lines travel in batches, several in one entry (`lines`); `unpack` turns such an
entry back into one event per line, in order. The last line's cursor is the entry id; the
others' are `<entry id>.<index>`, so a client may resume in the middle of an entry.
Replay reads the stream in pages of REPLAY_PAGE entries, never all of it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from appmanage.event_entries import STREAM_START, WHOLE_ENTRY, entry_id, lost_after
from appmanage.event_entries import Event as Event  # re-exported: the bus's event type
from appmanage.event_entries import cursor_key as cursor_key
from appmanage.event_entries import unpack as unpack

log = logging.getLogger(__name__)

STREAM_LENGTH = 20_000
BLOCK_MS = 2_000
SUBSCRIBER_BUFFER = 2_000
CLOSE_SECONDS = 1.0
REPLAY_PAGE = 500


def stream_name(namespace: str) -> str:
    return f"{namespace}:events"


def encode(kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"kind": kind, "at": datetime.now(UTC).isoformat(), **payload})


class EventPublisher:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self.stream = stream_name(namespace)
        self._publish_change = redis.register_script(_PUBLISH_CHANGE)

    def publish(self, kind: str, payload: dict[str, Any]) -> str | None:
        """Publish one event; returns its cursor, or None when Redis is away (state stays in
        the database and Docker, so a client catches up with its next query)."""
        entry: dict[Any, Any] = {"event": encode(kind, payload)}
        try:
            cursor = self._redis.xadd(self.stream, entry, maxlen=STREAM_LENGTH, approximate=True, nomkstream=True)
            if cursor is None:
                self._redis.xadd(self.stream, {"event": encode(STREAM_START, {})}, maxlen=STREAM_LENGTH)
                cursor = self._redis.xadd(self.stream, entry, maxlen=STREAM_LENGTH, approximate=True)
        except RedisError as exc:
            log.warning("event %s not published: %s", kind, exc)
            return None
        return cursor.decode() if isinstance(cursor, bytes) else str(cursor)

    def publish_change(self, tracked: str, key: str, value: str | None, kind: str, payload: dict[str, Any]) -> bool:
        """Publish when `value` differs from the last one published for `key` (None: forget
        the key, publishing only if it was known); the event gets `previous`."""
        try:
            cursor = self._publish_change(
                keys=[tracked, self.stream],
                args=[key, value or "", encode(kind, payload), STREAM_LENGTH, encode(STREAM_START, {})],
            )
        except RedisError as exc:
            log.warning("change of %s not published: %s", key, exc)
            return False
        return cursor is not None

    def known(self, tracked: str) -> set[str]:
        keys: Any = self._redis.hkeys(tracked)
        return {k.decode() for k in keys}


# Publish only when a tracked value changes, atomically, so that several processes
# announcing the same change publish it once. KEYS: hash, stream. ARGV: field, value
# ("" forgets the field), event body (JSON), stream length, stream-start body.
_PUBLISH_CHANGE = """
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if not previous then return false end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  if previous == ARGV[2] then return false end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local body = cjson.decode(ARGV[3])
body['previous'] = previous or cjson.null
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XADD', KEYS[2], '*', 'event', ARGV[5])
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event', cjson.encode(body))
"""


class SubscriberTooSlow(Exception):
    pass


class CursorExpired(Exception):
    pass


@dataclass(eq=False)
class Subscriber:
    accepts: Callable[[Event], bool]
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_BUFFER))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.overflowed or not self.accepts(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def next(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise SubscriberTooSlow("the subscriber fell behind; resubscribe with `events(after:)`")
        return event


class EventHub:
    """One per API process: reads the stream, hands each event to the local subscribers."""

    def __init__(self, redis_url: str, namespace: str) -> None:
        self.stream = stream_name(namespace)
        self._reader = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=5,
            socket_timeout=BLOCK_MS / 1000 + 5,
            retry=Retry(NoBackoff(), 0),  # the pump retries itself, and must stop when canceled
        )
        self._commands = aioredis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.last_cursor: str | None = None
        self.connected = False  # the last read of the stream succeeded
        self._listeners: list[Callable[[Event | None], None]] = []

    def add_listener(self, listener: Callable[[Event | None], None]) -> None:
        """`listener` gets every event in the event loop, and None whenever events may
        have been missed (the stream read anew after a failure, or a new stream)."""
        self._listeners.append(listener)

    def _connected(self) -> None:
        if not self.connected:
            self.connected = True
            self._tell_listeners(None)

    def _tell_listeners(self, event: Event | None) -> None:
        for listener in self._listeners:
            listener(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._pump(), name="event-hub")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            # a blocked XREAD may outlive the cancel (seen under Starlette's TestClient): bounded wait
            await asyncio.wait({self._task}, timeout=CLOSE_SECONDS)
            self._task = None
        for client in (self._reader, self._commands):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), CLOSE_SECONDS)

    async def _pump(self) -> None:
        last = "$"
        while not self._closing:
            try:
                if last == "$":
                    last = await self._newest_id()
                    self._connected()  # nothing after `last` can be missed from here on
                replies: Any = await self._reader.xread({self.stream: last}, block=BLOCK_MS, count=500)
            except (RedisError, OSError) as exc:
                self.connected = False
                if self._closing:  # redis-py may turn our cancellation into a connection error
                    return
                log.warning("event stream unreachable, retrying: %s", exc)
                await asyncio.sleep(1)
                continue
            self._connected()
            for _stream, entries in replies or ():
                for cursor, fields in entries:
                    event = Event.decode(cursor, fields)
                    last = self.last_cursor = event.cursor
                    if event.kind == STREAM_START:
                        self._tell_listeners(None)
                        continue
                    self._tell_listeners(event)
                    for subscriber in list(self._subscribers):
                        subscriber.offer(event)

    async def _newest_id(self) -> str:
        newest = await self._commands.xrevrange(self.stream, count=1)
        if not newest:
            return "0-0"
        cursor = newest[0][0]
        return cursor.decode() if isinstance(cursor, bytes) else str(cursor)

    async def replay(self, after: str) -> AsyncIterator[Event]:
        """Events after the cursor, batched lines unpacked, read REPLAY_PAGE entries at a time;
        CursorExpired when some of them are no longer kept (trimmed from the capped stream,
        or lost with a Redis restart)."""
        try:
            after_key = cursor_key(after)
        except ValueError as exc:
            raise CursorExpired(f"{after!r} is not a cursor") from exc
        try:
            info = await self._commands.xinfo_stream(self.stream)
        except ResponseError:
            info = None
        if after_key[:2] != (0, 0) and lost_after(info, after_key):
            raise CursorExpired("events after this cursor are no longer kept: query the state and subscribe again")
        if info is None:
            return
        start = entry_id(after) if after_key[2] != WHOLE_ENTRY else "(" + after
        while True:
            page: Any = await self._commands.xrange(self.stream, min=start, count=REPLAY_PAGE)
            for cursor, fields in page:
                event = Event.decode(cursor, fields)
                if event.kind == STREAM_START:
                    continue
                for single in unpack(event):
                    if cursor_key(single.cursor) > after_key:
                        yield single
            if len(page) < REPLAY_PAGE:
                return
            last = page[-1][0]
            start = "(" + (last.decode() if isinstance(last, bytes) else str(last))

    @contextlib.asynccontextmanager
    async def subscribe(self, accepts: Callable[[Event], bool]) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(accepts)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)
