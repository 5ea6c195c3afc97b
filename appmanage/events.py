"""The event bus: each event is published once to Redis, on one channel and in a capped
stream whose entry ids are the cursors clients resume from."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

STREAM_LENGTH = 10_000


def channel_name(namespace: str) -> str:
    return f"{namespace}:events"


def stream_name(namespace: str) -> str:
    return f"{namespace}:events:stream"


class EventPublisher:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._channel = channel_name(namespace)
        self._stream = stream_name(namespace)

    def publish(self, kind: str, payload: dict[str, Any]) -> str | None:
        """Publish one event; returns its cursor, or None when Redis is away (state stays in
        the database and Docker, so a lost event is caught up by the next query)."""
        body = {"kind": kind, "at": datetime.now(UTC).isoformat(), **payload}
        try:
            cursor = self._redis.xadd(self._stream, {"event": json.dumps(body)}, maxlen=STREAM_LENGTH, approximate=True)
            cursor_text = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
            self._redis.publish(self._channel, json.dumps({"cursor": cursor_text, **body}))
            return cursor_text
        except RedisError as exc:
            log.warning("event %s not published: %s", kind, exc)
            return None
