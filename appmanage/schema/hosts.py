"""The types of Docker hosts over GraphQL: a host with its facts and status, its
status-change event, and the result of drain and undrain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import strawberry

from appmanage.event_stream import Event as StreamEntry
from appmanage.hosts.facts import HostState
from appmanage.resolvers.hosts import HostView
from appmanage.schema.errors import NotFoundError


@strawberry.enum(name="HostStatus", description="ONLINE: its agent reports and its Docker answers.")
class HostStatusValue(StrEnum):
    ONLINE = HostState.ONLINE.value
    OFFLINE = HostState.OFFLINE.value


@strawberry.type
class HostLabel:
    key: str
    value: str


@strawberry.type(description="A Docker host served by an agent (`appmanage agent --host NAME`).")
class Host:
    name: str
    status: HostStatusValue
    status_reason: str | None = strawberry.field(description="Why it is OFFLINE, in words an operator can act on.")
    agent_version: str | None
    engine_version: str | None
    cpus: int | None
    memory_bytes: float | None = strawberry.field(description="Total memory, bytes.")
    disk_free_bytes: float | None = strawberry.field(description="Free disk of the agent's data folder, bytes.")
    labels: list[HostLabel]
    agent_last_seen: datetime | None
    app_count: int
    draining: bool = strawberry.field(description="A draining host takes no new installs.")

    @classmethod
    def from_view(cls, view: HostView) -> Host:
        facts = view.facts
        return cls(
            name=view.name,
            status=HostStatusValue(view.status.state.value),
            status_reason=view.status.reason,
            agent_version=facts.agent_version if facts else None,
            engine_version=facts.engine_version if facts else None,
            cpus=facts.cpus if facts else None,
            memory_bytes=facts.memory_bytes if facts else None,
            disk_free_bytes=facts.disk_free_bytes if facts else None,
            labels=[HostLabel(key=k, value=v) for k, v in sorted(facts.labels.items())] if facts else [],
            agent_last_seen=facts.last_seen if facts else None,
            app_count=view.app_count,
            draining=view.draining,
        )


@strawberry.type
class HostStatusEvent:
    cursor: str
    host: str
    status: HostStatusValue
    previous: HostStatusValue | None
    status_reason: str | None
    at: datetime

    @classmethod
    def from_entry(cls, entry: StreamEntry) -> HostStatusEvent:
        data = entry.data
        previous = data.get("previous")
        return cls(
            cursor=entry.cursor,
            host=data["host"],
            status=HostStatusValue(data["status"]),
            previous=HostStatusValue(previous) if previous else None,
            status_reason=data.get("reason"),
            at=entry.at,
        )


DrainHostResult = Annotated[Host | NotFoundError, strawberry.union("DrainHostResult")]
