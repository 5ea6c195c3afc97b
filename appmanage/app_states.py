"""Every app's computed state, kept current in the API process for the `apps` queries.

An app is recomputed (its rows read, its status computed by status.py) only when
something about it changed: an event on the stream names it (a job's change, a status
announcement), a mutation of this process `touch`es it, or the container reader hands
back a different listing for its project. When none of that happened (nothing touched,
the container cache still answering the listing the states came from), a query gets
the states at once, without a hop to a thread. Everything is recomputed when the stream
reader (re)connects or a new stream starts, since events may have been missed; while
the stream is not being read, every query computes every app, as without the store.
Each API process keeps its own store from the same stream, so they agree.
"""

from __future__ import annotations

import threading
from asyncio import to_thread
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from appmanage.event_stream import Event
from appmanage.runtime.container_cache import ContainerCache
from appmanage.runtime.containers import ContainerInfo, DockerUnavailable
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, take_snapshot

V = TypeVar("V")


@dataclass(frozen=True)
class AppState(Generic[V]):
    snapshot: AppSnapshot
    view: V  # the snapshot as the API answers it, shaped once
    listing: tuple[ContainerInfo, ...]  # its project's containers as the reader gave them


class AppStates(Generic[V]):
    def __init__(self, services: Services, shape: Callable[[AppSnapshot], V], live: Callable[[], bool]) -> None:
        self._services = services
        self._shape = shape
        self._live = live
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._dirty: set[str] = set()
        self._everything = True
        self._states: dict[str, AppState[V]] = {}
        self._ordered: tuple[AppState[V], ...] = ()
        self._listing: dict[str, list[ContainerInfo]] | None = None  # the one _ordered was computed from

    def on_event(self, event: Event | None) -> None:
        """The hub's listener: None when events may have been missed."""
        if event is None or event.kind == "host":  # a host came or went: its apps' status with it
            self.invalidate()
            return
        name = _app_of(event)
        if name is not None:
            self.touch(name)

    def touch(self, name: str) -> None:
        """`name` changed: recompute it before the next answer (a mutation's own writes)."""
        with self._lock:
            self._dirty.add(name)

    def invalidate(self) -> None:
        with self._lock:
            self._everything = True

    async def current(self) -> tuple[AppState[V], ...]:
        """Every app by name, recomputing only the ones that changed."""
        if not self._live():
            self.invalidate()
            return await to_thread(self._computed_afresh)
        if self._unchanged():
            return self._ordered
        return await to_thread(self._refresh)

    def _unchanged(self) -> bool:
        """Nothing to recompute, known without waiting: no app touched, no refresh under
        way, and the container cache still answering the listing the states came from."""
        containers = self._services.containers
        return (
            not (self._dirty or self._everything)
            and not self._refreshing.locked()
            and self._listing is not None
            and isinstance(containers, ContainerCache)
            and containers.is_current(self._listing)
        )

    def _computed_afresh(self) -> tuple[AppState[V], ...]:
        return tuple(self._state(s, ()) for s in take_snapshot(self._services))

    def _refresh(self) -> tuple[AppState[V], ...]:
        with self._refreshing:
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                everything, self._everything = self._everything, False
            try:
                projects = self._services.containers.by_project()
            except DockerUnavailable:
                self.invalidate()  # recompute everything once Docker answers again
                return self._computed_afresh()
            except BaseException:
                with self._lock:
                    self._dirty |= dirty
                    self._everything |= everything
                raise
            if not everything:
                dirty.update(
                    name for name, state in self._states.items() if tuple(projects.get(name, ())) != state.listing
                )
            if everything or dirty:
                self._recompute(None if everything else dirty, projects)
            self._listing = projects
            return self._ordered

    def _recompute(self, names: set[str] | None, projects: dict[str, list[ContainerInfo]]) -> None:
        try:
            snapshots = take_snapshot(self._services, names, known=projects)
        except BaseException:
            with self._lock:
                if names is None:
                    self._everything = True
                else:
                    self._dirty |= names
            raise
        fresh = {s.app.name: self._state(s, tuple(projects.get(s.app.name, ()))) for s in snapshots}
        if names is None:
            states = fresh
        else:
            states = {n: s for n, s in self._states.items() if n not in names}
            states.update(fresh)
        self._states = states
        self._ordered = tuple(states[name] for name in sorted(states))

    def _state(self, snapshot: AppSnapshot, listing: tuple[ContainerInfo, ...]) -> AppState[V]:
        return AppState(snapshot, self._shape(snapshot), listing)


def _app_of(event: Event) -> str | None:
    if event.kind == "status":
        name = event.data.get("app")
    elif event.kind == "job":
        name = (event.data.get("job") or {}).get("app")
    else:
        return None
    return name if isinstance(name, str) else None
