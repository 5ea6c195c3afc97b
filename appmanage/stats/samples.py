"""One sample of a host: per app and per service, the figures of its running containers,
and the machine's totals; built from two passes of the reader, sent as compact JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from appmanage.runtime.container_stats import ContainerReading, Pass
from appmanage.stats.formulas import cpu_percent, memory_limit, memory_used
from appmanage.stats.machine import MachineStats


@dataclass(frozen=True)
class Usage:
    """The figures of one container, or the sum over a service's or an app's containers."""

    cpu_percent: float = 0.0
    memory_bytes: int = 0
    memory_limit_bytes: int = 0
    network_rx_bytes: int = 0
    network_tx_bytes: int = 0
    block_read_bytes: int = 0
    block_write_bytes: int = 0
    pids: int = 0
    containers: int = 0

    def plus(self, other: Usage, memory_cap: int = 0) -> Usage:
        """The sum; the memory limit no more than `memory_cap` (the host's memory) when given."""
        limit = self.memory_limit_bytes + other.memory_limit_bytes
        return Usage(
            cpu_percent=self.cpu_percent + other.cpu_percent,
            memory_bytes=self.memory_bytes + other.memory_bytes,
            memory_limit_bytes=min(limit, memory_cap) if memory_cap > 0 else limit,
            network_rx_bytes=self.network_rx_bytes + other.network_rx_bytes,
            network_tx_bytes=self.network_tx_bytes + other.network_tx_bytes,
            block_read_bytes=self.block_read_bytes + other.block_read_bytes,
            block_write_bytes=self.block_write_bytes + other.block_write_bytes,
            pids=self.pids + other.pids,
            containers=self.containers + other.containers,
        )


@dataclass(frozen=True)
class AppUsage:
    total: Usage
    services: dict[str, Usage] = field(default_factory=dict)


@dataclass(frozen=True)
class HostSample:
    host: str
    sampled_at: datetime
    machine: MachineStats
    apps: dict[str, AppUsage]

    def to_json(self) -> str:
        return json.dumps(
            {
                "host": self.host,
                "at": self.sampled_at.isoformat(),
                "machine": asdict(self.machine),
                "apps": {
                    name: {"total": _compact(app.total), "services": {s: _compact(u) for s, u in app.services.items()}}
                    for name, app in self.apps.items()
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> HostSample:
        data = json.loads(text)
        return cls(
            host=data["host"],
            sampled_at=datetime.fromisoformat(data["at"]),
            machine=MachineStats(**data["machine"]),
            apps={
                name: AppUsage(total=_usage(app["total"]), services={s: _usage(u) for s, u in app["services"].items()})
                for name, app in data["apps"].items()
            },
        )


_FIELDS = tuple(Usage.__dataclass_fields__)


def _compact(usage: Usage) -> list[float | int]:
    return [round(usage.cpu_percent, 3), *(getattr(usage, name) for name in _FIELDS[1:])]


def _usage(values: list[Any]) -> Usage:
    return Usage(float(values[0]), *(int(v) for v in values[1:]))


def container_usage(
    reading: ContainerReading, before: ContainerReading | None, seconds: float, host_memory: int
) -> Usage:
    """One container's figures; its CPU over `seconds` since `before` (0 for a first reading)."""
    now = reading.counters
    return Usage(
        cpu_percent=cpu_percent(before.counters.cpu_ns, now.cpu_ns, seconds) if before is not None else 0.0,
        memory_bytes=memory_used(now.memory_usage, now.memory_inactive_file),
        memory_limit_bytes=memory_limit(now.memory_limit, host_memory),
        network_rx_bytes=now.net_rx,
        network_tx_bytes=now.net_tx,
        block_read_bytes=now.block_read,
        block_write_bytes=now.block_write,
        pids=now.pids,
        containers=1,
    )


def build_sample(host: str, at: datetime, machine: MachineStats, current: Pass, previous: Pass | None) -> HostSample:
    """Per app and service, the containers of `current`; CPU over the time since `previous`."""
    before = {r.id: r for r in previous.readings} if previous is not None else {}
    seconds = current.at - previous.at if previous is not None else 0.0
    cap = machine.memory_total_bytes
    services: dict[str, dict[str, Usage]] = {}
    for reading in current.readings:
        usage = container_usage(reading, before.get(reading.id), seconds, cap)
        of_app = services.setdefault(reading.project, {})
        of_app[reading.service] = of_app[reading.service].plus(usage, cap) if reading.service in of_app else usage
    apps: dict[str, AppUsage] = {}
    for name, of_app in services.items():
        total = Usage()
        for usage in of_app.values():
            total = total.plus(usage, cap)
        apps[name] = AppUsage(total, dict(sorted(of_app.items())))
    return HostSample(host, at, machine, apps)
