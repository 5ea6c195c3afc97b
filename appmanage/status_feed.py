"""Announce app status changes: recompute with the status function, publish what changed.

The last announced status of each app is kept in Redis beside the event stream, so the
watcher and every worker can announce without announcing one change twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence

from appmanage.runtime.containers import ContainerInfo
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, take_snapshot

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
    published = publish_statuses(services, snapshots)
    for name in gone:
        payload = {"app": name, "status": "UNKNOWN", "reason": "the app was uninstalled", "removed": True}
        published += services.stream.publish_change(tracked, name, None, "status", payload)
    return published


def publish_statuses(services: Services, snapshots: Iterable[AppSnapshot]) -> int:
    """Publish the status of each snapshot that changed; for a caller that has them already."""
    tracked = status_key(services.settings.namespace)
    published = 0
    for snapshot in snapshots:
        status = snapshot.status
        payload = {"app": snapshot.app.name, "status": status.status.value, "reason": status.reason, "removed": False}
        published += services.stream.publish_change(tracked, snapshot.app.name, status.status.value, "status", payload)
    return published
