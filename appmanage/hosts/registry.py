"""Host facts in Redis: one hash per namespace, a field per host, JSON facts as value.

Agents write their own field every few seconds; readers fetch every host in one
round trip (HGETALL). `last_seen` is stamped with Redis's clock, so hosts with skewed
clocks are judged alike.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime

from redis import Redis

from appmanage.hosts.facts import HostFacts

log = logging.getLogger(__name__)


def hosts_key(namespace: str) -> str:
    return f"{namespace}:hosts"


def draining_key(namespace: str) -> str:
    """Names of draining hosts: a mirror of the database's drain flags, kept by the API."""
    return f"{namespace}:hosts-draining"


def host_status_key(namespace: str) -> str:
    """The last announced status of each host (for compare-and-publish)."""
    return f"{namespace}:host-status"


def redis_now(redis: Redis) -> datetime:
    seconds, micros = redis.time()
    return datetime.fromtimestamp(int(seconds) + int(micros) / 1_000_000, UTC)


def publish_facts(redis: Redis, namespace: str, facts: HostFacts) -> None:
    """Store the host's facts, stamped with Redis's time."""
    stamped = dataclasses.replace(facts, last_seen=redis_now(redis))
    redis.hset(hosts_key(namespace), facts.name, encode_facts(stamped))


def read_hosts(redis: Redis, namespace: str) -> dict[str, HostFacts]:
    """Every host that has reported, with its drain flag; one round trip."""
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(hosts_key(namespace))
    pipe.smembers(draining_key(namespace))
    raw, draining = pipe.execute()
    drained = {_text(n) for n in draining}
    hosts: dict[str, HostFacts] = {}
    for value in raw.values():
        facts = decode_facts(value)
        if facts is not None:
            hosts[facts.name] = dataclasses.replace(facts, draining=facts.name in drained)
    return hosts


def read_host(redis: Redis, namespace: str, name: str) -> HostFacts | None:
    pipe = redis.pipeline(transaction=False)
    pipe.hget(hosts_key(namespace), name)
    pipe.sismember(draining_key(namespace), name)
    value, draining = pipe.execute()
    facts = None if value is None else decode_facts(value)
    return None if facts is None else dataclasses.replace(facts, draining=bool(draining))


def mirror_draining(redis: Redis, namespace: str, names: set[str]) -> None:
    """Make the Redis mirror of the drain flags equal `names`."""
    key = draining_key(namespace)
    pipe = redis.pipeline(transaction=True)
    pipe.delete(key)
    if names:
        pipe.sadd(key, *sorted(names))
    pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def forget_host(redis: Redis, namespace: str, name: str) -> None:
    redis.hdel(hosts_key(namespace), name)


def encode_facts(facts: HostFacts) -> str:
    body = dataclasses.asdict(facts)
    body["ports"] = sorted(facts.ports)
    body["last_seen"] = facts.last_seen.isoformat()
    return json.dumps(body)


def decode_facts(value: bytes | str) -> HostFacts | None:
    try:
        body = json.loads(value)
        return HostFacts(
            name=str(body["name"]),
            agent_version=str(body["agent_version"]),
            engine_version=body.get("engine_version"),
            cpus=int(body["cpus"]),
            memory_bytes=int(body["memory_bytes"]),
            disk_free_bytes=int(body["disk_free_bytes"]),
            labels={str(k): str(v) for k, v in body.get("labels", {}).items()},
            ports=frozenset(int(p) for p in body.get("ports", [])),
            docker_ok=bool(body["docker_ok"]),
            last_seen=datetime.fromisoformat(body["last_seen"]),
            draining=bool(body.get("draining", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable host facts ignored: %s", exc)
        return None
