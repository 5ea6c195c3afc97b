"""Container states of every compose project, from one low-level Docker listing.

`docker.APIClient.containers()` answers from one `GET /containers/json`; the SDK's
high-level `containers.list()` inspects each container afterwards, which costs a call per
container. The restart policy is not in the listing: it is read once per container, and
only for containers that exited with code 0, where it decides "done" against "down".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import docker
from docker.errors import DockerException, NotFound
from requests.exceptions import RequestException

from appmanage.status import ContainerState

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"

_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


class DockerUnavailable(Exception):
    pass


@dataclass(frozen=True)
class PortInfo:
    host_ip: str | None
    host_port: int
    container_port: int
    protocol: str


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    project: str
    service: str
    state: str
    exit_code: int | None
    health: str | None
    image: str
    created: int
    ports: tuple[PortInfo, ...] = field(default_factory=tuple)
    restart_policy: str = "no"

    def as_state(self) -> ContainerState:
        return ContainerState(self.service, self.state, self.exit_code, self.health, self.restart_policy)


def parse_container(raw: dict[str, Any], restart_policy: str = "no") -> ContainerInfo:
    labels = raw.get("Labels") or {}
    status = raw.get("Status") or ""
    exit_match = _EXIT_CODE.match(status)
    health_match = _HEALTH.search(status)
    health = health_match.group(1).replace("health: ", "") if health_match else None
    ports = tuple(
        PortInfo(p.get("IP") or None, int(p["PublicPort"]), int(p["PrivatePort"]), p.get("Type", "tcp"))
        for p in raw.get("Ports") or ()
        if p.get("PublicPort")
    )
    names = raw.get("Names") or [raw.get("Id", "")]
    return ContainerInfo(
        id=raw["Id"],
        name=names[0].lstrip("/"),
        project=labels.get(PROJECT_LABEL, ""),
        service=labels.get(SERVICE_LABEL, names[0].lstrip("/")),
        state=raw.get("State") or "unknown",
        exit_code=int(exit_match.group(1)) if exit_match else None,
        health=health,
        image=raw.get("Image") or "",
        created=int(raw.get("Created") or 0),
        ports=ports,
        restart_policy=restart_policy,
    )


class ContainerReader:
    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._api: docker.APIClient | None = None
        self._policies: dict[str, str] = {}

    @property
    def api(self) -> docker.APIClient:
        if self._api is None:
            try:
                self._api = docker.from_env(timeout=int(self._timeout)).api
            except DockerException as exc:
                raise DockerUnavailable(str(exc)) from exc
        return self._api

    def ping(self) -> bool:
        try:
            return bool(self.api.ping())
        except (DockerException, RequestException, DockerUnavailable):
            return False

    def _list(self, **filters: Any) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = self.api.containers(all=True, filters=filters or None)
        except (DockerException, RequestException) as exc:
            raise DockerUnavailable(str(exc)) from exc
        return result

    def by_project(self, project: str | None = None) -> dict[str, list[ContainerInfo]]:
        """Containers of every compose project (or of one), one-off `run` containers left out."""
        label = f"{PROJECT_LABEL}={project}" if project else PROJECT_LABEL
        projects: dict[str, list[ContainerInfo]] = defaultdict(list)
        raws = [r for r in self._list(label=label) if (r.get("Labels") or {}).get(ONEOFF_LABEL) != "True"]
        live_ids = {r["Id"] for r in raws}
        for stale in set(self._policies) - live_ids if project is None else ():
            del self._policies[stale]
        for raw in raws:
            info = parse_container(raw)
            if info.state == "exited" and info.exit_code == 0:
                info = parse_container(raw, self._restart_policy(info.id))
            projects[info.project].append(info)
        return dict(projects)

    def published_ports(self) -> set[int]:
        return {p.host_port for raw in self._list(status="running") for p in parse_container(raw).ports}

    def logs(self, containers: list[ContainerInfo], tail: int) -> list[LogEntry]:
        return read_logs(self.api, containers, tail)

    def _restart_policy(self, container_id: str) -> str:
        if container_id not in self._policies:
            try:
                inspected = self.api.inspect_container(container_id)
            except NotFound:
                return "no"
            except (DockerException, RequestException) as exc:
                raise DockerUnavailable(str(exc)) from exc
            self._policies[container_id] = (inspected.get("HostConfig") or {}).get("RestartPolicy", {}).get(
                "Name"
            ) or "no"
        return self._policies[container_id]

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None


@dataclass(frozen=True)
class LogEntry:
    service: str
    timestamp: datetime | None
    line: str


MAX_LOG_LINES = 10_000


def read_logs(api: docker.APIClient, containers: list[ContainerInfo], tail: int) -> list[LogEntry]:
    """The last `tail` lines of the containers' stdout and stderr, interleaved in time order."""
    tail = max(0, min(tail, MAX_LOG_LINES))
    if tail == 0:
        return []
    entries: list[LogEntry] = []
    for container in containers:
        try:
            raw = api.logs(container.id, stdout=True, stderr=True, timestamps=True, tail=tail)
        except NotFound:
            continue
        except (DockerException, RequestException) as exc:
            raise DockerUnavailable(str(exc)) from exc
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        entries.extend(parse_log_line(container.service, line) for line in text.splitlines())
    entries.sort(key=lambda e: e.timestamp or datetime.min.replace(tzinfo=UTC))
    return entries[-tail:]


def parse_log_line(service: str, line: str) -> LogEntry:
    stamp, _, text = line.partition(" ")
    return LogEntry(service, parse_timestamp(stamp), text)


def parse_timestamp(stamp: str) -> datetime | None:
    """Docker's RFC 3339 stamps carry nanoseconds; Python keeps microseconds."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp)
    if not match:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{base}.{micro}{zone}")
