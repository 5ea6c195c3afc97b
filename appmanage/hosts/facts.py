"""A host's facts as its agent reports them, and the pure rule that makes them a status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

HEARTBEAT_SECONDS = 2.5
OFFLINE_AFTER = timedelta(seconds=10)
MINOR_VERSIONS_BEHIND = 1


@dataclass(frozen=True)
class HostFacts:
    name: str
    agent_version: str
    engine_version: str | None
    cpus: int
    memory_bytes: int
    disk_free_bytes: int
    labels: dict[str, str]
    ports: frozenset[int]  # published by containers and listening on that host
    docker_ok: bool
    last_seen: datetime  # UTC, Redis's clock
    draining: bool = False


class HostState(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


@dataclass(frozen=True)
class HostStatus:
    state: HostState
    reason: str | None

    @property
    def online(self) -> bool:
        return self.state is HostState.ONLINE


ONLINE = HostStatus(HostState.ONLINE, None)


def host_status(facts: HostFacts | None, now: datetime, api_version: str) -> HostStatus:
    """ONLINE, or OFFLINE with why: the agent is silent, too old, or its Docker is not answering."""
    if facts is None:
        return HostStatus(HostState.OFFLINE, "no agent has reported for this host")
    if now - facts.last_seen > OFFLINE_AFTER:
        return HostStatus(HostState.OFFLINE, f"agent not seen since {facts.last_seen.isoformat(timespec='seconds')}")
    oldest = oldest_supported(api_version)
    if _version(facts.agent_version) < oldest:
        need = ".".join(str(n) for n in oldest)
        return HostStatus(HostState.OFFLINE, f"agent version {facts.agent_version}, need {need} or newer")
    if not facts.docker_ok:
        return HostStatus(HostState.OFFLINE, f"Docker not answering on host {facts.name}")
    return ONLINE


def oldest_supported(api_version: str) -> tuple[int, int]:
    """The oldest agent (major, minor) this API works with: one minor version behind."""
    major, minor = _version(api_version)
    return major, max(0, minor - MINOR_VERSIONS_BEHIND)


def _version(text: str) -> tuple[int, int]:
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0
