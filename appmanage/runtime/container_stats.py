"""One reading of every running compose container of the host, at once.

A Docker listing names the running containers; a container seen for the first time is
inspected once for its main pid and its cgroup folders found (runtime.cgroups), both kept
until it is gone. Its counters are then read from files, without Docker. The listing
itself (~60 ms of dockerd's time for 200 containers) is asked again only when the cgroup
folders beside the known containers' changed (a container started or stopped), when told
so (`relist`: the watcher saw a container start or die), or after RELIST_SECONDS. Only
when a container's files cannot be read (another pid namespace, a remote engine) does the
pass ask Docker's one-shot stats for it, one call each.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from docker.errors import DockerException, NotFound
from requests.exceptions import RequestException

from appmanage.runtime.cgroups import CounterFiles, Counters, locate
from appmanage.runtime.containers import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL, ContainerReader, DockerUnavailable

log = logging.getLogger(__name__)

RELIST_SECONDS = 30.0


@dataclass(frozen=True)
class ContainerReading:
    id: str
    project: str
    service: str
    counters: Counters


@dataclass(frozen=True)
class Pass:
    """What one pass read, and when (monotonic seconds, for rates)."""

    readings: list[ContainerReading]
    at: float
    from_docker: int  # containers whose files could not be read


@dataclass
class _Known:
    project: str
    service: str
    files: CounterFiles | None  # None: its files are out of reach, Docker is asked


class ContainerStatsReader:
    def __init__(self, containers: ContainerReader | None = None) -> None:
        self._docker = containers or ContainerReader(timeout=10)
        self._known: dict[str, _Known] = {}
        self._listed: dict[str, dict[str, Any]] = {}
        self._listed_at = float("-inf")
        self._siblings: frozenset[str] | None = None
        self.listings = 0

    def relist(self) -> None:
        """Make the next read list the containers again."""
        self._listed_at = float("-inf")

    def read(self) -> Pass:
        """Every running compose container's counters; DockerUnavailable when Docker does not list."""
        listed = self._running_containers()
        for gone in self._known.keys() - listed.keys():
            self._forget(gone)
        readings: list[ContainerReading] = []
        from_docker = 0
        for container_id, raw in listed.items():
            known, counters = self._from_files(container_id, raw)
            if known is None:
                continue  # gone since the listing
            if counters is None:
                counters = self._one_shot(container_id)
                from_docker += 1
            if counters is not None:
                readings.append(ContainerReading(container_id, known.project, known.service, counters))
        return Pass(readings, time.monotonic(), from_docker)

    def _from_files(self, container_id: str, raw: dict[str, Any]) -> tuple[_Known | None, Counters | None]:
        """The container and its counters read from its files; a container whose files fail
        is learned again once (restarted: a new main pid). None counters: Docker is asked."""
        if (known := self._known.get(container_id)) is not None:
            if known.files is None:
                return known, None
            if (counters := known.files.read()) is not None:
                return known, counters
        known = self._learn(container_id, raw)
        if known is None or known.files is None:
            return known, None
        if (counters := known.files.read()) is None:
            known.files.close()
            known.files = None
        return known, counters

    def close(self) -> None:
        for container_id in list(self._known):
            self._forget(container_id)
        self._docker.close()

    def _forget(self, container_id: str) -> None:
        known = self._known.pop(container_id, None)
        if known is not None and known.files is not None:
            known.files.close()

    def _running_containers(self) -> dict[str, dict[str, Any]]:
        """The last listing while the cgroup folders stay as they were; else a new one."""
        siblings = self._cgroup_siblings()
        now = time.monotonic()
        if siblings is None or siblings != self._siblings or now - self._listed_at >= RELIST_SECONDS:
            self._listed, self._listed_at, self._siblings = self._running(), now, siblings
            self.listings += 1
        return self._listed

    def _cgroup_siblings(self) -> frozenset[str] | None:
        """The cgroup folders beside the known containers' (None: none known, or unreadable)."""
        parents = {known.files.paths.parent for known in self._known.values() if known.files is not None}
        if not parents:
            return None
        try:
            return frozenset(f"{parent}/{name}" for parent in parents for name in os.listdir(parent))
        except OSError:
            return None

    def _running(self) -> dict[str, dict[str, Any]]:
        try:
            raws: list[dict[str, Any]] = self._docker.api.containers(
                filters={"label": PROJECT_LABEL, "status": "running"}
            )
        except (DockerException, RequestException) as exc:
            raise DockerUnavailable(str(exc)) from exc
        return {r["Id"]: r for r in raws if (r.get("Labels") or {}).get(ONEOFF_LABEL) != "True"}

    def _learn(self, container_id: str, raw: dict[str, Any]) -> _Known | None:
        labels = raw.get("Labels") or {}
        try:
            state = self._docker.api.inspect_container(container_id).get("State") or {}
        except NotFound:
            return None
        except (DockerException, RequestException) as exc:
            raise DockerUnavailable(str(exc)) from exc
        if not state.get("Running"):
            self._forget(container_id)
            return None  # stopped since the listing
        pid = int(state.get("Pid") or 0)
        paths = locate(container_id, pid) if pid > 0 else None
        if paths is None:
            log.debug("container %s: cgroup files not found, Docker's stats are used", container_id[:12])
        names = raw.get("Names") or [container_id]
        files = CounterFiles(paths) if paths is not None else None
        known = _Known(labels.get(PROJECT_LABEL, ""), labels.get(SERVICE_LABEL, names[0].lstrip("/")), files)
        self._forget(container_id)
        self._known[container_id] = known
        return known

    def _one_shot(self, container_id: str) -> Counters | None:
        try:
            stats: dict[str, Any] = self._docker.api.stats(container_id, stream=False, one_shot=True)
        except NotFound:
            return None
        except (DockerException, RequestException) as exc:
            raise DockerUnavailable(str(exc)) from exc
        return counters_from_docker(stats)


def counters_from_docker(stats: dict[str, Any]) -> Counters | None:
    """The same counters from a Docker stats answer (`GET /containers/<id>/stats`)."""
    cpu = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    memory = stats.get("memory_stats") or {}
    if "total_usage" not in cpu:
        return None  # the container stopped between the listing and the call
    memory_stat = memory.get("stats") or {}
    blkio = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    networks = (stats.get("networks") or {}).values()
    return Counters(
        cpu_ns=int(cpu["total_usage"]),
        memory_usage=int(memory.get("usage") or 0),
        memory_inactive_file=int(memory_stat.get("total_inactive_file", memory_stat.get("inactive_file", 0))),
        memory_limit=int(memory.get("limit") or 0),
        pids=int((stats.get("pids_stats") or {}).get("current") or 0),
        block_read=sum(int(e.get("value") or 0) for e in blkio if str(e.get("op", "")).lower() == "read"),
        block_write=sum(int(e.get("value") or 0) for e in blkio if str(e.get("op", "")).lower() == "write"),
        net_rx=sum(int(n.get("rx_bytes") or 0) for n in networks),
        net_tx=sum(int(n.get("tx_bytes") or 0) for n in networks),
    )
