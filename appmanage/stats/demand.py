"""Who wants a host's stats, and where they go, in Redis.

- `<ns>:stats:wanted:<host>`: sorted set, one member `<seconds>|<asker>` per asker, scored
  by when it lapses (Redis's clock, ms); renewed by each API process while it has
  subscribers (or waits for a fresh sample), read by the host's sampler every half second.
- `<ns>:stats:<host>`: pub/sub channel, each live sample (HostSample JSON), published by
  the sampler only while someone wants it; read by each API process with subscribers.
- `<ns>:stats:last:<host>`: the latest sample, live or background, with a TTL (its age is
  read from the TTL, on Redis's clock); what `App.stats` and `hostStats` answer from.

An asker renews its member every few seconds; a member not renewed lapses on its own, so
an API process that dies leaves no demand behind. The sampler samples at the shortest
interval asked, and publishes nothing when no member is left.
"""

from __future__ import annotations

from typing import Any

from redis import Redis

WANT_TTL_SECONDS = 6.0
RENEW_SECONDS = 2.0
LAST_TTL_SECONDS = 120


def wanted_key(namespace: str, host: str) -> str:
    return f"{namespace}:stats:wanted:{host}"


def channel(namespace: str, host: str) -> str:
    return f"{namespace}:stats:{host}"


def last_key(namespace: str, host: str) -> str:
    return f"{namespace}:stats:last:{host}"


def member(every: float, asker: str) -> str:
    return f"{every:g}|{asker}"


def shortest(members: list[Any]) -> float | None:
    """The shortest interval among the members (None: nobody asks)."""
    intervals = []
    for item in members:
        text = item.decode() if isinstance(item, bytes) else str(item)
        try:
            intervals.append(float(text.partition("|")[0]))
        except ValueError:
            continue
    return min(intervals) if intervals else None


# KEYS: wanted set. ARGV: member, ttl ms. The whole set outlives any member.
WANT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 60000)
return 1
"""

# KEYS: wanted set. Lapsed members removed, the others returned.
WANTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class Demand:
    """The sampler's side: the shortest interval anyone asks for now."""

    def __init__(self, redis: Redis, namespace: str, host: str) -> None:
        self._key = wanted_key(namespace, host)
        self._wanted = redis.register_script(WANTED)

    def every(self) -> float | None:
        members: Any = self._wanted(keys=[self._key])
        return shortest(list(members or ()))
