"""Resource stats over GraphQL: an app's and its services' figures (`App.stats`, the
`appStats` subscription), the host's totals (`hostStats`), and an app's history of
averages (`App.statsHistory`). Byte counts are Floats: GraphQL's Int has 32 bits."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import asdict
from datetime import datetime

import strawberry

from appmanage.errors import NotFound, ValidationFailed
from appmanage.resolvers import stats
from appmanage.schema.context import Info
from appmanage.schema.errors import invalid, not_found
from appmanage.schema.permissions import CanView
from appmanage.stats.samples import AppUsage, HostSample, Usage
from appmanage.storage.models import LOCAL_HOST, AppStatsMinute

CPU = "CPU used, percent of one core (200: two cores busy), averaged since the sample before."
MEMORY = "Memory used, bytes, page cache it would give back first left out (like `docker stats`)."
LIMIT = "Memory limit, bytes: the host's memory when none is set."
SAMPLED_AT = "When the host's sampler read the containers."
DEFAULT_EVERY = 5


@strawberry.type(description="The figures of one service's running containers (summed when it has several).")
class ServiceStats:
    name: str
    cpu_percent: float = strawberry.field(description=CPU)
    memory_bytes: float = strawberry.field(description=MEMORY)
    memory_limit_bytes: float = strawberry.field(description=LIMIT)
    network_rx_bytes: float = strawberry.field(description="Bytes received since the containers started.")
    network_tx_bytes: float = strawberry.field(description="Bytes sent since the containers started.")
    block_read_bytes: float
    block_write_bytes: float
    pids: int
    containers: int = strawberry.field(description="Running containers counted.")

    @classmethod
    def of(cls, name: str, usage: Usage) -> ServiceStats:
        return cls(name=name, **asdict(usage))


@strawberry.type(description="An app's figures: the sums over its running containers, and per service.")
class AppStats:
    app: str
    host: str
    sampled_at: datetime = strawberry.field(description=SAMPLED_AT)
    cpu_percent: float = strawberry.field(description=CPU)
    memory_bytes: float = strawberry.field(description=MEMORY)
    memory_limit_bytes: float = strawberry.field(description=LIMIT)
    network_rx_bytes: float
    network_tx_bytes: float
    block_read_bytes: float
    block_write_bytes: float
    pids: int
    containers: int
    services: list[ServiceStats]

    @classmethod
    def of(cls, name: str, sample: HostSample) -> AppStats:
        usage = sample.apps.get(name) or AppUsage(Usage())
        return cls(
            app=name,
            host=sample.host,
            sampled_at=sample.sampled_at,
            services=[ServiceStats.of(s, u) for s, u in usage.services.items()],
            **asdict(usage.total),
        )


@strawberry.type(description="A Docker host's totals, from its sampler.")
class HostStats:
    host: str
    sampled_at: datetime = strawberry.field(description=SAMPLED_AT)
    cpus: int
    load1: float
    load5: float
    load15: float
    memory_total_bytes: float
    memory_available_bytes: float
    disk_total_bytes: float = strawberry.field(description="Size of the disk holding the agent's data folder.")
    disk_free_bytes: float
    cpu_percent: float = strawberry.field(description="CPU of all the apps' containers, percent of one core.")
    memory_bytes: float = strawberry.field(description="Memory used by all the apps' containers.")
    containers: int

    @classmethod
    def of(cls, sample: HostSample) -> HostStats:
        machine = sample.machine
        return cls(
            host=sample.host,
            sampled_at=sample.sampled_at,
            cpus=machine.cpus,
            load1=machine.load1,
            load5=machine.load5,
            load15=machine.load15,
            memory_total_bytes=machine.memory_total_bytes,
            memory_available_bytes=machine.memory_available_bytes,
            disk_total_bytes=machine.disk_total_bytes,
            disk_free_bytes=machine.disk_free_bytes,
            cpu_percent=sum(a.total.cpu_percent for a in sample.apps.values()),
            memory_bytes=sum(a.total.memory_bytes for a in sample.apps.values()),
            containers=sum(a.total.containers for a in sample.apps.values()),
        )


@strawberry.type(description="One period's (a minute's) averages of an app.")
class AppStatsPoint:
    minute: datetime = strawberry.field(description="The start of the period.")
    cpu_percent: float
    memory_bytes: float

    @classmethod
    def from_row(cls, row: AppStatsMinute) -> AppStatsPoint:
        return cls(minute=row.minute, cpu_percent=row.cpu_percent, memory_bytes=row.memory_bytes)


async def app_stats(info: Info, name: str, host: str, running: int) -> AppStats | None:
    """For `App.stats` (`running`: its running containers): the latest sample of the app's
    host, one that shows them if they just started; None when the host has none."""
    sample = await stats.app_sample(info.context.services, name, host, running)
    return AppStats.of(name, sample) if sample is not None else None


async def app_stats_history(info: Info, name: str, since: datetime) -> list[AppStatsPoint]:
    """For `App.statsHistory`."""
    return [AppStatsPoint.from_row(r) for r in await stats.stats_history(info.context.services, name, since)]


@strawberry.type
class StatsQuery:
    @strawberry.field(
        permission_classes=[CanView],
        description="The host's totals from its latest sample (a fresh one within 2 s); null when it has none; "
        "a NOT_FOUND error for a host no agent has registered.",
    )
    async def host_stats(self, info: Info, host: str = LOCAL_HOST) -> HostStats | None:
        try:
            sample = await stats.host_sample(info.context.services, host)
        except NotFound as exc:
            raise not_found(exc) from exc
        return HostStats.of(sample) if sample is not None else None


@strawberry.type
class StatsSubscription:
    @strawberry.subscription(
        permission_classes=[CanView],
        description="The app's figures every `everySeconds` (1 to 3600) while subscribed; "
        "a NOT_FOUND error for an unknown app.",
    )
    async def app_stats(
        self, info: Info, name: str, every_seconds: int | None = DEFAULT_EVERY
    ) -> AsyncGenerator[AppStats, None]:
        try:
            async for sample in stats.app_samples(info.context.services, name, _every(every_seconds)):
                yield AppStats.of(name, sample)
        except ValidationFailed as exc:
            raise invalid(exc) from exc
        except NotFound as exc:
            raise not_found(exc) from exc

    @strawberry.subscription(
        permission_classes=[CanView],
        description="The host's totals every `everySeconds` (1 to 3600); a NOT_FOUND error for a host no agent "
        "has registered.",
    )
    async def host_stats(
        self, info: Info, host: str = LOCAL_HOST, every_seconds: int | None = DEFAULT_EVERY
    ) -> AsyncGenerator[HostStats, None]:
        try:
            async for sample in stats.host_samples(info.context.services, host, _every(every_seconds)):
                yield HostStats.of(sample)
        except ValidationFailed as exc:
            raise invalid(exc) from exc
        except NotFound as exc:
            raise not_found(exc) from exc


def _every(every_seconds: int | None) -> int:
    return DEFAULT_EVERY if every_seconds is None else every_seconds
