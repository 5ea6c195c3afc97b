"""Container states kept current by Docker's event stream, for the API process.

The first query lists every compose container once; from then on a thread follows
Docker's events: each event moves its container to the state it implies at once (the
mapping the watcher uses, runtime.container_events), and, once Docker has recorded it,
marks its project stale. A query re-lists only the stale
projects (one small filtered call each, or one full listing when many are stale), so
the `apps` query costs no Docker call when nothing changed. While the event stream is
down, every query lists directly, as ContainerReader does, and so sees Docker's absence.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.container_events import (
    TrackedContainer,
    apply_event,
    changes_state,
    container_id,
    event_project,
    settle,
)
from appmanage.runtime.containers import PROJECT_LABEL, ContainerInfo, ContainerReader

log = logging.getLogger(__name__)

FULL_LISTING_ABOVE = 8
RETRY_SECONDS = 1.0


class ContainerCache(ContainerReader):
    def __init__(self, timeout: float = 10.0) -> None:
        super().__init__(timeout)
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._stream: Any = None
        self._projects: dict[str, list[ContainerInfo]] | None = None
        self._stale: set[str] = set()
        self._stopping_ids: set[str] = set()
        self._following = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="container-events", daemon=True)
            self._thread.start()

    def by_project(self, project: str | None = None) -> dict[str, list[ContainerInfo]]:
        if not self._following.is_set():
            return super().by_project(project)
        with self._refreshing:
            with self._lock:
                stale, self._stale = self._stale, set()
                known = self._projects
            try:
                known = self._refresh(known, stale)
            except BaseException:
                with self._lock:
                    self._stale |= stale
                raise
            self._projects = known
        if project is None:
            return known
        return {project: known[project]} if project in known else {}

    def is_current(self, listing: dict[str, list[ContainerInfo]]) -> bool:
        """Whether `listing`, the last answer of by_project() for every project, is still
        what by_project() would answer: known at once, without Docker and without waiting."""
        return self._following.is_set() and not self._stale and listing is self._projects

    def _refresh(self, known: dict[str, list[ContainerInfo]] | None, stale: set[str]) -> dict[str, list[ContainerInfo]]:
        if known is None or len(stale) > FULL_LISTING_ABOVE:
            return super().by_project()
        fresh = dict(known)
        for name in stale:
            fresh.pop(name, None)
            fresh.update(super().by_project(name))
        return fresh

    def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                client = docker.from_env(timeout=None)
                stream = self._stream = client.api.events(
                    decode=True, filters={"type": "container", "label": PROJECT_LABEL}
                )
                with self._lock:
                    self._projects, self._stale = None, set()
                self._following.set()
                for event in stream:
                    project = event_project(event)
                    if project and changes_state(event):
                        self._apply(project, event)
                        settle(client.api, event)
                        with self._lock:
                            self._stale.add(project)
                    if self._stopping.is_set():
                        break
            except (DockerException, RequestException, OSError) as exc:
                log.debug("container events unavailable: %s", exc)
            self._following.clear()
            self._stopping.wait(RETRY_SECONDS)

    def _apply(self, project: str, event: dict[str, Any]) -> None:
        """Serve the state the event implies until the listing after it (the shared mapping)."""
        cid = container_id(event)
        with self._lock:
            if self._projects is None:
                return
            containers = {c.id: c for c in self._projects.get(project, ())}
            before = containers.get(cid)
            tracked = TrackedContainer(before, cid in self._stopping_ids) if before is not None else None
            after = apply_event(tracked, event, self._policies.get(cid, before.restart_policy if before else "no"))
            if after is None:
                containers.pop(cid, None)
                self._stopping_ids.discard(cid)
            else:
                containers[cid] = after.info
                (self._stopping_ids.add if after.stopping else self._stopping_ids.discard)(cid)
            self._projects = {**self._projects, project: list(containers.values())}

    def close(self) -> None:
        self._stopping.set()
        if self._stream is not None:
            self._stream.close()
        super().close()
