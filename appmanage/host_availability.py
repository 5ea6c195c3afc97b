"""Which Docker hosts are available now, for the status of their apps and for placement.

A host is judged from its agent's facts in the registry (`hosts/`). The host `local`
without any facts (an installation whose agent publishes none yet, the tests' own
workers) counts as online: it is the engine this process sees, and Docker's own answer
decides its apps' status, as before hosts existed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from redis import Redis
from redis.exceptions import RedisError

from appmanage import __version__
from appmanage.hosts.facts import ONLINE, HostFacts, HostState, HostStatus, host_status
from appmanage.hosts.registry import read_hosts, redis_now
from appmanage.storage.models import LOCAL_HOST

log = logging.getLogger(__name__)


def registered_hosts(redis: Redis, namespace: str) -> tuple[dict[str, HostFacts], dict[str, HostStatus]] | None:
    """Every registered host's facts and status; None when Redis does not answer."""
    try:
        facts = read_hosts(redis, namespace)
        now = redis_now(redis)
    except RedisError as exc:
        log.warning("host registry not readable: %s", exc)
        return None
    return facts, {name: host_status(f, now, __version__) for name, f in facts.items()}


def availability(statuses: Mapping[str, HostStatus] | None, hosts: Collection[str]) -> dict[str, HostStatus]:
    """The status of each of `hosts`, from the registry's `statuses` (None: unreadable)."""
    judged = {}
    for host in hosts:
        status = None if statuses is None else statuses.get(host)
        if status is not None:
            judged[host] = status
        elif host == LOCAL_HOST:
            judged[host] = ONLINE
        elif statuses is None:
            judged[host] = HostStatus(HostState.OFFLINE, f"host {host}: Redis does not answer, so its agent is unknown")
        else:
            judged[host] = HostStatus(HostState.OFFLINE, f"host {host}: no agent has reported for it")
    return judged


def offline_reason(host: str, status: HostStatus) -> str | None:
    """The reason an app on `host` reads UNKNOWN, naming the host; None: it is online."""
    if status.online:
        return None
    reason = status.reason or "offline"
    return reason if reason.startswith(f"host {host}") else f"host {host} is OFFLINE: {reason}"
