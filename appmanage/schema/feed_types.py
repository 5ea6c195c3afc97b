"""The GraphQL types of what subscriptions stream: app status changes and job updates,
shaped from the entries of the event stream (`appmanage/event_stream.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from appmanage.event_stream import Event as StreamEntry
from appmanage.job_record import JobRecord
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
    def from_entry(cls, entry: StreamEntry) -> AppStatusEvent:
        data = entry.data
        previous = data.get("previous")
        return cls(
            cursor=entry.cursor,
            app=data["app"],
            status=AppStatus(data["status"]),
            previous=AppStatus(previous) if previous else None,
            removed=bool(data.get("removed")),
            status_reason=data.get("reason"),
            at=entry.at,
        )


@strawberry.type
class JobEvent:
    cursor: str
    job: Job
    line: str | None = strawberry.field(description="A new log line, when the event is one.")
    at: datetime

    @classmethod
    def from_entry(cls, entry: StreamEntry) -> JobEvent:
        job = Job.from_record(JobRecord.from_json(entry.data["job"]))
        return cls(cursor=entry.cursor, job=job, line=entry.data.get("line"), at=entry.at)


Event = Annotated[AppStatusEvent | JobEvent, strawberry.union("Event")]


def shape_event(entry: StreamEntry) -> AppStatusEvent | JobEvent:
    return AppStatusEvent.from_entry(entry) if entry.kind == "status" else JobEvent.from_entry(entry)
