"""Compare-and-publish host status changes on the event stream, announced once.

The last announced status of each host is kept in Redis beside the stream (like app
statuses, appmanage.status_feed): every API process checks all hosts every few seconds
and each agent its own host at each heartbeat, and whichever notices a change first
publishes it; the others find it already announced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from redis import Redis
from redis.exceptions import RedisError

import appmanage
from appmanage.event_stream import EventPublisher
from appmanage.hosts.facts import HostFacts, HostStatus, host_status
from appmanage.hosts.registry import host_status_key, mirror_draining, read_hosts, redis_now
from appmanage.hosts.rows import host_rows
from appmanage.services import Services
from appmanage.status_feed import announce_apps_on

log = logging.getLogger(__name__)

HOST_EVENT = "host"
CHECK_SECONDS = 2.0


def announce_host(publisher: EventPublisher, namespace: str, name: str, status: HostStatus) -> bool:
    payload = {"host": name, "status": status.state.value, "reason": status.reason}
    return publisher.publish_change(host_status_key(namespace), name, status.state.value, HOST_EVENT, payload)


def current_statuses(redis: Redis, namespace: str, names: Iterable[str]) -> dict[str, HostStatus]:
    """The status of every host that has reported, and of each of `names` (registered ones)."""
    facts: dict[str, HostFacts | None] = dict.fromkeys(names)
    facts.update(read_hosts(redis, namespace))
    now = redis_now(redis)
    return {name: host_status(f, now, appmanage.__version__) for name, f in facts.items()}


def announce_all(services: Services) -> int:
    """Announce every host's status change; mirror the drain flags into Redis on the way."""
    namespace = services.settings.namespace
    rows = host_rows(services.db)
    try:
        mirror_draining(services.redis, namespace, {name for name, row in rows.items() if row.draining})
        statuses = current_statuses(services.redis, namespace, rows)
    except (RedisError, OSError) as exc:
        log.warning("host statuses not checked: %s", exc)
        return 0
    changed = [name for name, status in statuses.items() if announce_host(services.stream, namespace, name, status)]
    for name in changed:  # its apps' status follows the host's (UNKNOWN while it is offline)
        announce_apps_on(services, name)
    return len(changed)


async def watch_hosts(services: Services, period: float = CHECK_SECONDS) -> None:
    """The API's check: every `period` seconds, announce what changed (e.g. a silent agent)."""
    while True:
        try:
            await asyncio.to_thread(announce_all, services)
        except Exception as exc:  # the database away: try again next time
            log.warning("host statuses not checked: %s", exc)
        await asyncio.sleep(period)
