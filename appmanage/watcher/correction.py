"""The listing after the event: the watcher's second look, in its own thread.

The watcher announces the state an event implies at once; this thread then waits until
Docker has recorded the change (`settle`), lists the project, and announces what the
listing says, so a provisional status that was wrong is corrected by a second event.
It also reads the restart policy of containers the book has not seen inspected yet.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from appmanage.runtime.container_events import POLICY_ACTIONS, container_id, event_action, restart_policy_of, settle
from appmanage.runtime.containers import ContainerReader, DockerUnavailable
from appmanage.services import Services
from appmanage.status_feed import announce
from appmanage.watcher.book import ContainerBook

log = logging.getLogger(__name__)

Check = tuple[str | None, dict[str, Any] | None]  # (project to list: None for all, its event)


class Correction:
    def __init__(self, services: Services, book: ContainerBook, stopping: threading.Event) -> None:
        self._services = services
        self._book = book
        self._stopping = stopping
        self._reader = ContainerReader()
        self._checks: queue.Queue[Check] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="watcher-correction", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def check(self, project: str | None, event: dict[str, Any] | None = None) -> None:
        """List this project (None: every one) once Docker has settled `event`, and announce."""
        self._checks.put((project, event))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._checks.get(timeout=0.5)
            except queue.Empty:
                continue
            checks = [first]
            while not self._checks.empty():
                checks.append(self._checks.get_nowait())
            try:
                self._correct(checks)
            except DockerUnavailable as exc:
                log.debug("listing after events failed: %s", exc)
                announce(self._services)  # lists again: UNKNOWN while Docker is away
            except Exception:
                log.exception("listing after events failed")

    def _correct(self, checks: list[Check]) -> None:
        events = [event for _, event in checks if event is not None]
        for event in events:
            settle(self._reader.api, event)
        self._read_policies([container_id(e) for e in events if event_action(e) in POLICY_ACTIONS])
        projects = {project for project, _ in checks}
        if None in projects:
            self._relist(None)
            self._read_policies([])
            return
        for project in projects:
            self._relist(project)

    def _relist(self, project: str | None) -> None:
        generations = self._book.generations()
        listing = self._reader.by_project(project)
        known = self._book.adopt(listing, generations, project)
        announce(self._services, None if project is None else [project], known=known)

    def _read_policies(self, refresh: list[str]) -> None:
        wanted = dict.fromkeys([*refresh, *self._book.without_policy()])
        policies = [(cid, restart_policy_of(self._reader.api, cid)) for cid in wanted]
        self._book.set_policies((cid, policy) for cid, policy in policies if policy is not None)

    def close(self) -> None:
        self._reader.close()
