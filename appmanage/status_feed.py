"""Announce app status changes: recompute with the status function, publish what changed.

The last announced status of each app is kept in Redis beside the event stream, so the
watcher and every worker can announce without announcing one change twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from appmanage.services import Services
from appmanage.snapshot import take_snapshot

log = logging.getLogger(__name__)


def status_key(namespace: str) -> str:
    return f"{namespace}:status"


def announce(services: Services, names: Collection[str] | None = None) -> int:
    """Recompute the status of these apps (None: all) and publish each change; returns how
    many changes were published. Apps that are gone are announced as removed."""
    tracked = status_key(services.settings.namespace)
    try:
        snapshots = take_snapshot(services, names, need_containers=False)
        gone = set(names) if names is not None else services.stream.known(tracked)
    except Exception as exc:
        log.warning("statuses not announced: %s", exc)
        return 0
    published = 0
    for snapshot in snapshots:
        gone.discard(snapshot.app.name)
        status = snapshot.status
        payload = {"app": snapshot.app.name, "status": status.status.value, "reason": status.reason, "removed": False}
        published += services.stream.publish_change(tracked, snapshot.app.name, status.status.value, "status", payload)
    for name in gone:
        payload = {"app": name, "status": "UNKNOWN", "reason": "the app was uninstalled", "removed": True}
        published += services.stream.publish_change(tracked, name, None, "status", payload)
    return published
