"""Revocations travel through Redis, so that every API process closes the sockets of a
revoked token at once. `announce` publishes the token id on a pub/sub channel (the CLI and
the revokeToken mutation both do); each API process runs one `RevocationListener`. Pub/sub
forgets what it sent while a listener was disconnected, so after every (re)subscription the
listener calls `resync`, which checks every open socket's token against the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("appmanage.api")
RETRY_SECONDS = 1.0


def channel(namespace: str) -> str:
    return f"{namespace}:tokens:revoked"


def announce(redis: Redis, namespace: str, token_id: str) -> bool:
    """Tell every API process; False when Redis is away (sockets then close at their next
    operation, or when the processes' listeners reconnect)."""
    try:
        redis.publish(channel(namespace), token_id)
    except RedisError as exc:
        log.warning("revocation of token %s not announced: %s", token_id, exc)
        return False
    return True


class RevocationListener:
    def __init__(
        self,
        redis_url: str,
        namespace: str,
        revoked: Callable[[str], None],
        resync: Callable[[], Awaitable[None]],
    ) -> None:
        self._redis_url = redis_url
        self._channel = channel(namespace)
        self._revoked = revoked
        self._resync = resync
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="token-revocations")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=1.0)
            self._task = None

    async def _listen(self) -> None:
        first = True
        while True:
            client: Any = aioredis.Redis.from_url(self._redis_url, socket_connect_timeout=5)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.subscribed.set()
                    if not first:
                        await self._resync()
                    first = False
                    async for message in pubsub.listen():
                        data = message.get("data")
                        if isinstance(data, bytes):
                            self._revoked(data.decode())
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                first = False
                log.warning("token revocations unreachable, retrying: %s", exc)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), 1.0)
