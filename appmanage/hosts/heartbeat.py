"""The agent's heartbeat: gathers its host's facts and publishes them every few seconds.

It runs as a thread in the agent's watcher child (the agent itself starts no thread
before it forks). Its own Docker client, so it never shares a connection with the
watcher; one Docker call for the published ports, and the engine's version asked again
only after Docker was away.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

import appmanage
from appmanage.event_stream import EventPublisher
from appmanage.hosts.announce import announce_host
from appmanage.hosts.facts import HEARTBEAT_SECONDS, HostFacts, host_status
from appmanage.hosts.registry import publish_facts, read_host, redis_now
from appmanage.runtime.containers import ContainerReader
from appmanage.runtime.host import GB, host_resources
from appmanage.runtime.ports import listening_ports

log = logging.getLogger(__name__)


def parse_labels(text: str) -> dict[str, str]:
    """`k=v,k2=v2` → {"k": "v", "k2": "v2"}; an item without `=` is a label with an empty value."""
    labels: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key.strip():
            labels[key.strip()] = value.strip()
    return labels


class Heartbeat:
    def __init__(self, host: str, redis: Redis, namespace: str, data_dir: Path, labels: dict[str, str]) -> None:
        self.host = host
        self._redis = redis
        self._namespace = namespace
        self._data_dir = data_dir
        self._labels = labels
        self._docker = ContainerReader(timeout=HEARTBEAT_SECONDS)
        self._engine_version: str | None = None
        self._publisher = EventPublisher(redis, namespace)

    def gather(self) -> HostFacts:
        resources = host_resources(self._data_dir)
        published, docker_ok = self._published_ports()
        return HostFacts(
            name=self.host,
            agent_version=appmanage.__version__,
            engine_version=self._engine_version,
            cpus=len(os.sched_getaffinity(0)),
            memory_bytes=int(resources.memory * GB),
            disk_free_bytes=int(resources.disk * GB),
            labels=dict(self._labels),
            ports=frozenset(published | listening_ports()),
            docker_ok=docker_ok,
            last_seen=datetime.now(UTC),
        )

    def beat(self) -> None:
        """Publish the facts, then announce the host's status if this changed it (e.g. back ONLINE)."""
        try:
            publish_facts(self._redis, self._namespace, self.gather())
            facts = read_host(self._redis, self._namespace, self.host)
            status = host_status(facts, redis_now(self._redis), appmanage.__version__)
            announce_host(self._publisher, self._namespace, self.host, status)
        except RedisError as exc:
            log.warning("host %s: heartbeat not published: %s", self.host, exc)

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                self.beat()
            except Exception:
                log.exception("host %s: heartbeat failed", self.host)
            stopping.wait(HEARTBEAT_SECONDS)
        self._docker.close()

    def start(self, stopping: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stopping,), name="heartbeat", daemon=True)
        thread.start()
        return thread

    def _published_ports(self) -> tuple[set[int], bool]:
        try:
            published = self._docker.published_ports()
            if self._engine_version is None:
                self._engine_version = str(self._docker.api.version().get("Version") or "") or None
        except Exception as exc:  # DockerUnavailable, or docker-py's and requests' own errors
            log.debug("host %s: Docker not answering: %s", self.host, exc)
            self._engine_version = None
            self._docker.close()
            return set(), False
        return published, True
