"""Announce app status changes: recompute with the status function, publish what changed.

The last announced status of each app is kept in Redis beside the event stream, so the
watcher and every worker can announce without announcing one change twice.

A process sees the containers of one Docker engine only, its host's (`agent_host`), so it
announces the apps on that host, and the apps of any host that is offline (UNKNOWN, with
the host's reason, needs no engine); the apps of other hosts are their agents' to announce.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence

from redis.exceptions import RedisError

from appmanage.enums import AppStatus
from appmanage.host_containers import forget_containers, publish_containers
from appmanage.runtime.containers import ContainerInfo
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, take_snapshot
from appmanage.storage import queries

log = logging.getLogger(__name__)


def status_key(namespace: str) -> str:
    return f"{namespace}:status"


def announce(
    services: Services,
    names: Collection[str] | None = None,
    known: Mapping[str, Sequence[ContainerInfo]] | None = None,
) -> int:
    """Recompute the status of these apps (None: all) and publish each change; returns how
    many changes were published. Apps that are gone are announced as removed. `known`
    container states (the watcher's) spare the Docker listing."""
    tracked = status_key(services.settings.namespace)
    try:
        snapshots = take_snapshot(services, names, need_containers=False, known=known)
        gone = set(names) if names is not None else services.stream.known(tracked)
    except Exception as exc:
        log.warning("statuses not announced: %s", exc)
        return 0
    gone -= {s.app.name for s in snapshots}
    _share_listings(services, snapshots, gone)
    published = publish_statuses(services, [s for s in snapshots if _ours(services, s)])
    for name in gone:
        payload = {"app": name, "status": "UNKNOWN", "reason": "the app was uninstalled", "removed": True}
        published += services.stream.publish_change(tracked, name, None, "status", payload)
    return published


def announce_apps_on(services: Services, host: str) -> int:
    """A host came or went: announce its apps (UNKNOWN with the host's reason while it is
    offline; once back, its own agent announces them from its engine)."""
    try:
        with services.db.read() as session:
            names = [app.name for app in queries.list_apps(session) if app.host == host]
    except Exception as exc:
        log.warning("apps of host %s not announced: %s", host, exc)
        return 0
    return announce(services, names) if names else 0


def _share_listings(services: Services, snapshots: Sequence[AppSnapshot], gone: Collection[str]) -> None:
    """This host's listings, for the API processes of other hosts (`host_containers.py`);
    none while Docker is silent (UNKNOWN), so the last good listing stays."""
    namespace, host = services.settings.namespace, services.settings.agent_host
    ours = [s for s in snapshots if s.app.host == host and s.status.status is not AppStatus.UNKNOWN]
    try:
        publish_containers(services.redis, namespace, host, {s.app.name: s.containers for s in ours})
        forget_containers(services.redis, namespace, host, gone)
    except RedisError as exc:
        log.warning("container listings not shared: %s", exc)


def _ours(services: Services, snapshot: AppSnapshot) -> bool:
    return snapshot.app.host == services.settings.agent_host or not snapshot.host_online


def publish_statuses(services: Services, snapshots: Iterable[AppSnapshot]) -> int:
    """Publish the status of each snapshot that changed; for a caller that has them already."""
    tracked = status_key(services.settings.namespace)
    published = 0
    for snapshot in snapshots:
        status = snapshot.status
        payload = {"app": snapshot.app.name, "status": status.status.value, "reason": status.reason, "removed": False}
        published += services.stream.publish_change(tracked, snapshot.app.name, status.status.value, "status", payload)
    return published
