from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from appmanage.enums import JobKind as JobKindEnum
from appmanage.enums import JobState as JobStateEnum
from appmanage.event_stream import Event as BusEvent
from appmanage.schema.enums import AppStatus
from appmanage.schema.jobs import Job


@strawberry.type
class AppStatusEvent:
    cursor: str
    app: str
    status: AppStatus = strawberry.field(description="Removed apps are announced UNKNOWN with removed: true.")
    previous: AppStatus | None
    removed: bool
    status_reason: str | None
    at: datetime

    @classmethod
    def from_event(cls, event: BusEvent) -> AppStatusEvent:
        data = event.data
        previous = data.get("previous")
        return cls(
            cursor=event.cursor,
            app=data["app"],
            status=AppStatus(data["status"]),
            previous=AppStatus(previous) if previous else None,
            removed=bool(data.get("removed")),
            status_reason=data.get("reason"),
            at=event.at,
        )


@strawberry.type
class JobEvent:
    cursor: str
    job: Job
    line: str | None = strawberry.field(description="A new log line, when the event is one.")
    at: datetime

    @classmethod
    def from_event(cls, event: BusEvent) -> JobEvent:
        return cls(
            cursor=event.cursor, job=job_from_payload(event.data["job"]), line=event.data.get("line"), at=event.at
        )


def job_from_payload(data: dict[str, Any]) -> Job:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(data[key]) if data.get(key) else None

    created = when("created_at")
    assert created is not None
    return Job(
        id=strawberry.ID(data["id"]),
        app=data["app"],
        kind=JobKindEnum(data["kind"]),
        state=JobStateEnum(data["state"]),
        step=data.get("step"),
        progress=data.get("progress"),
        error=data.get("error"),
        worker=data.get("worker"),
        created_at=created,
        started_at=when("started_at"),
        finished_at=when("finished_at"),
    )


Event = Annotated[AppStatusEvent | JobEvent, strawberry.union("Event")]


def shape_event(event: BusEvent) -> AppStatusEvent | JobEvent:
    return AppStatusEvent.from_event(event) if event.kind == "status" else JobEvent.from_event(event)
