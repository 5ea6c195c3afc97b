"""The watcher's book of compose containers: their states as Docker's events say, between
listings, and their restart policies (read once per container, again after create, start
and update), so that a `die` is understood at once.

Events move a container to its provisional state (runtime.container_events.apply_event);
a listing is the truth and replaces a project's containers, unless an event came for the
project while the listing was made (then another listing follows it, and decides). A
`kill` seen is kept across listings until the container starts again: the `die` that
follows it is an operator's stop, not a crash to restart.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from appmanage.runtime.container_events import TrackedContainer, apply_event, container_id, event_project
from appmanage.runtime.containers import ContainerInfo


class ContainerBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._projects: dict[str, dict[str, TrackedContainer]] = defaultdict(dict)
        self._policies: dict[str, str] = {}
        self._generations: dict[str, int] = defaultdict(int)

    def apply(self, event: dict[str, Any]) -> str | None:
        """Apply one event; returns its project when a container's state changed."""
        project, container = event_project(event), container_id(event)
        if project is None or not container:
            return None
        with self._lock:
            self._generations[project] += 1
            containers = self._projects[project]
            before = containers.get(container)
            after = apply_event(before, event, self._policies.get(container, "no"))
            if after is None:
                containers.pop(container, None)
                self._policies.pop(container, None)
            else:
                containers[container] = after
        changed = (before.info if before else None) != (after.info if after else None)
        return project if changed else None

    def project(self, name: str) -> list[ContainerInfo]:
        with self._lock:
            return [tracked.info for tracked in self._projects.get(name, {}).values()]

    def generations(self) -> dict[str, int]:
        with self._lock:
            return dict(self._generations)

    def adopt(
        self, listing: Mapping[str, Sequence[ContainerInfo]], generations: Mapping[str, int], only: str | None = None
    ) -> dict[str, list[ContainerInfo]]:
        """Take a listing made after `generations` was read as the truth (of one project, or
        of all), for each project no event touched meanwhile; returns the containers known
        now of the listed projects."""
        with self._lock:
            names = {only} if only is not None else set(listing) | set(self._projects)
            for name in names:
                if self._generations.get(name, 0) != generations.get(name, 0):
                    continue
                before = self._projects.get(name, {})
                fresh = {
                    c.id: TrackedContainer(self._with_policy(c), c.id in before and before[c.id].stopping)
                    for c in listing.get(name, ())
                }
                if fresh:
                    self._projects[name] = fresh
                else:
                    self._projects.pop(name, None)
            return {name: [t.info for t in self._projects.get(name, {}).values()] for name in names}

    def _with_policy(self, info: ContainerInfo) -> ContainerInfo:
        policy = self._policies.get(info.id)
        return info if policy is None or policy == info.restart_policy else replace(info, restart_policy=policy)

    def without_policy(self) -> list[str]:
        with self._lock:
            return [cid for containers in self._projects.values() for cid in containers if cid not in self._policies]

    def set_policies(self, policies: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            for cid, policy in policies:
                self._policies[cid] = policy
                for containers in self._projects.values():
                    tracked = containers.get(cid)
                    if tracked is not None:
                        containers[cid] = replace(tracked, info=replace(tracked.info, restart_policy=policy))
