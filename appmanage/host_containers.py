"""The containers of other hosts' apps, as their agents last listed them, kept in Redis.

An API process sees one Docker engine at most (its own host's); the containers of an app
on another host reach it through that host's agent: each announcement writes the app's
listing into one hash per host (`<ns>:containers:<host>`, a field per app, JSON), and
the status of such an app is computed from it, by the same pure function. Whether the
host itself is there is the host registry's to say (an offline host's apps read UNKNOWN).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from redis import Redis

from appmanage.runtime.containers import ContainerInfo, PortInfo


def containers_key(namespace: str, host: str) -> str:
    return f"{namespace}:containers:{host}"


def publish_containers(
    redis: Redis, namespace: str, host: str, listings: Mapping[str, Sequence[ContainerInfo]]
) -> None:
    if listings:
        pipeline = redis.pipeline(transaction=False)
        for name, found in listings.items():
            pipeline.hset(containers_key(namespace, host), name, json.dumps([dataclasses.asdict(c) for c in found]))
        pipeline.execute()


def forget_containers(redis: Redis, namespace: str, host: str, names: Collection[str]) -> None:
    if names:
        redis.hdel(containers_key(namespace, host), *names)


def read_containers(redis: Redis, namespace: str, host: str, names: Sequence[str]) -> dict[str, list[ContainerInfo]]:
    """The last listing of each of `names` on `host`; an app never listed is left out."""
    if not names:
        return {}
    values: list[Any] = redis.hmget(containers_key(namespace, host), list(names))
    return {name: _decode(value) for name, value in zip(names, values, strict=True) if value is not None}


def _decode(value: bytes | str) -> list[ContainerInfo]:
    found = []
    for item in json.loads(value):
        ports = tuple(PortInfo(**port) for port in item.pop("ports", ()))
        found.append(ContainerInfo(**item, ports=ports))
    return found
